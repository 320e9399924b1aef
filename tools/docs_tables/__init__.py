"""Every number in README.md and docs/*.md, generated from the committed files in docs/results/.

    python -m experiments.summarize --docs           # rewrite the generated blocks
    python -m experiments.summarize --docs --check   # exit 1 naming each block that differs

A generated block in a page is

    <!-- generated: NAME -->
    ...
    <!-- end generated -->

and its text is `BLOCKS[NAME]()`, a function of the files under docs/results/
only. Prose outside the blocks carries no measured number
(`tests/test_docs.py` checks both). To add a result: commit its run
directories' results.json (`python -m tools.collect_results RUNS docs/results/...`),
add a block function to the topic's module here, its name to `BLOCKS` and its marker in the
page.
"""

import glob
import os
import re
import sys

from tools.docs_tables import (
  datasets,
  domainbed,
  label_sets,
  methods,
  other_kinds,
  performance,
  recipes,
  reliability,
  sentiment,
  source_free,
  speech,
  tta,
)
from tools.docs_tables.common import ROOT, SPEECH_PAIRS, not_yet

PAGES = ["README.md"] + [
  os.path.join("docs", f)
  for f in sorted(os.listdir(os.path.join(ROOT, "docs")))
  if f.endswith(".md")
]
# Summaries beside committed runs (every README number stands in a file under docs/results/).
PAGES += [
  os.path.join("docs", "results", "source_free", pair, "source_free_summary.md")
  for pair in ("digits_to_digits_m", "mnist_to_mnist_m")
  if os.path.exists(os.path.join(ROOT, "docs", "results", "source_free", pair))
] + sorted(
  os.path.relpath(p, ROOT)
  for p in glob.glob(os.path.join(ROOT, "docs", "results", "label_sets", "*", "*", "*.md"))
)
# Source-free runs on MNIST -> MNIST-M from a source model trained with data.colour_jitter; and
# those of SHOT's longer target budget, from source models trained again (on another machine).
COLOUR_SOURCE = "mnist_to_mnist_m" + source_free.COLOUR_JITTER
LONG_SOURCE = COLOUR_SOURCE + source_free.LONG
BLOCK = re.compile(r"(<!-- generated: ([\w-]+) -->\n)(.*?)(<!-- end generated -->)", re.S)


BLOCKS = {
  "digits-methods": lambda: methods.method_benchmark("digits_to_digits_m"),
  "digits-verdicts": lambda: methods.method_verdicts("digits_to_digits_m"),
  "mnist-methods": lambda: methods.method_benchmark("mnist_to_mnist_m"),
  "mnist-verdicts": lambda: methods.method_verdicts("mnist_to_mnist_m"),
  "mnist-validators": lambda: methods.validator_picks("mnist_to_mnist_m"),
  "digits-validators": lambda: methods.validator_picks("digits_to_digits_m"),
  "methods-summary": methods.methods_summary,
  **{
    f"speech-{kind}-{pair.split('_to_')[1]}": (lambda f=f, pair=pair: f(pair, "speech"))
    for pair in SPEECH_PAIRS
    for kind, f in (
      ("methods", methods.method_benchmark),
      ("verdicts", methods.method_verdicts),
      ("validators", methods.validator_picks),
    )
  },  # fmt: skip
  "speech-pads": speech.speech_pads,
  "speech-default-time": speech.speech_default_time,
  "label-sets-summary": label_sets.label_sets_summary,
  "label-sets-published": label_sets.published_label_sets,
  "domainbed-published-rotated": lambda: domainbed.published_domainbed("RotatedMNIST"),
  "domainbed-published-colored": lambda: domainbed.published_domainbed("ColoredMNIST"),
  "domainbed-colored": lambda: domainbed.domainbed_runs("colored"),
  "domainbed-rotated": lambda: domainbed.domainbed_runs("rotated"),
  "domainbed-digits-five": lambda: not_yet(lambda: domainbed.domainbed_runs("digits_five")),
  "published-shot": source_free.published_shot,
  "tta-source": tta.tta_source,
  "tta-corruptions": tta.tta_corruptions,
  "tta-source-mnist-m": tta.tta_source_mnist_m,
  "tta-mnist-m-corruptions": lambda: tta.tta_corruptions("mnist_m_c5"),
  "tta-source-mnist-m-severities": lambda: not_yet(
    lambda: tta.tta_source_mnist_m("mnist_m_severities/source")
  ),
  "tta-mnist-m-severities": lambda: not_yet(tta.tta_severities),
  "tta-mnist-m-severity-corruptions": lambda: not_yet(tta.tta_severity_corruptions),
  "tta-mnist-m-seeds": lambda: not_yet(tta.tta_seeds),
  "tta-mnist-c-seeds": lambda: not_yet(
    lambda: tta.tta_seeds(("mnist_c",), ("source_mnist_bn",), "mnist_c_seeds", "MNIST")
  ),
  "tta-learning-rates": tta.tta_learning_rates,
  "tta-long": tta.tta_long,
  "tta-long-mnist-m": lambda: tta.tta_long("mnist_m_c5_long"),
  "tta-long-lr1": lambda: tta.tta_long("mnist_c_long_lr1.0"),
  "tta-long-all": lambda: not_yet(lambda: tta.tta_long("mnist_c_long_all")),
  "tta-long-all-lr01": lambda: not_yet(lambda: tta.tta_long("mnist_c_long_all_lr0.1")),
  "seeds-speedup": performance.seeds_speedup,
  "seeds-speedup-xla-conv": lambda: performance.seeds_speedup(
    "bench_seeds_mnist_mnistm_xla_conv.json"
  ),
  "data-load": lambda: not_yet(performance.data_load),
  "whole-seeds": lambda: not_yet(performance.whole_seeds),
  "whole-seeds-unrolled": lambda: performance.whole_seeds("whole_runs_unrolled"),
  "whole-seeds-vmap": lambda: performance.whole_seeds("whole_runs_vmap"),
  "step-flops": performance.step_flops,
  **{
    f"label-sets-{s}{suffix}": (
      lambda s=s, pair=pair: not_yet(lambda: label_sets.label_set_table(s, pair))
    )
    for s in ("partial", "openset", "universal")
    for suffix, pair in (("", "digits_to_digits_m"), ("-mnist", "mnist_to_mnist_m"))
  },
  **{
    f"label-sets-{s}{suffix}-verdicts": (
      lambda s=s, pair=pair: not_yet(lambda: label_sets.label_set_verdicts(s, pair))
    )
    for s in ("partial", "openset", "universal")
    for suffix, pair in (("", "digits_to_digits_m"), ("-mnist", "mnist_to_mnist_m"))
  },
  "speech-build": speech.speech_build,
  "main-command": methods.main_command,
  "main-command-log": methods.main_command_log,
  "text-pairs": sentiment.text_pairs,
  "text-summary": sentiment.text_summary,
  "text-validators": sentiment.text_validators,
  "text-more-methods": sentiment.text_more_methods,
  "text-timing": sentiment.text_timing,
  "paper-recipe": recipes.paper_recipe,
  "tradeoff-validators": recipes.tradeoff_validators,
  "reverse-scores": recipes.reverse_scores,
  "mnist-pad": recipes.pad_table,
  "instance-weighting": other_kinds.instance_weighting,
  "finetune-modes": lambda: other_kinds.finetune_table("modes_mnist_mnistm"),
  "finetune-modes-verdicts": lambda: other_kinds.finetune_verdicts("modes_mnist_mnistm"),
  "finetune-delta005": lambda: other_kinds.finetune_table("delta005_mnist_mnistm"),
  "finetune-parity": lambda: other_kinds.finetune_table("parity_mnist_mnistm"),
  "finetune-parity-verdicts": lambda: other_kinds.finetune_verdicts("parity_mnist_mnistm"),
  "finetune-digits": lambda: other_kinds.finetune_table("digits"),
  "finetune-mnist": lambda: other_kinds.finetune_table("mnist_mnistm"),
  "finetune-mnist-verdicts": lambda: other_kinds.finetune_verdicts("mnist_mnistm"),
  "distillation": other_kinds.distillation,
  "ranking": other_kinds.ranking,
  "other-kinds": other_kinds.other_kinds,
  "source-free-digits": lambda: not_yet(source_free.source_free_table),
  "source-free-digits-selection": lambda: not_yet(source_free.source_free_selection),
  **{
    f"source-free-summary-{name}": (
      lambda pair=pair: source_free.source_free_table(pair, source_free.SUMMARY_LINKS)
    )
    for name, pair in (("digits", "digits_to_digits_m"), ("mnist", "mnist_to_mnist_m"))
  },
  **{
    f"source-free-summary-{name}-selection": (
      lambda pair=pair: source_free.source_free_selection(pair)
    )
    for name, pair in (("digits", "digits_to_digits_m"), ("mnist", "mnist_to_mnist_m"))
  },
  "source-free-mnist": lambda: not_yet(
    lambda: source_free.source_free_table("mnist_to_mnist_m", beside=("dann",))
  ),
  "source-free-mnist-selection": lambda: not_yet(
    lambda: source_free.source_free_selection("mnist_to_mnist_m")
  ),
  "source-free-mnist-colour": lambda: not_yet(
    lambda: source_free.source_free_table(
      COLOUR_SOURCE, beside=("dann",), benchmark="mnist_to_mnist_m"
    )
  ),
  "source-free-mnist-long": lambda: not_yet(
    lambda: source_free.source_free_table(
      LONG_SOURCE, beside=("dann",), benchmark="mnist_to_mnist_m"
    )
  ),
  "source-free-mnist-long-selection": lambda: not_yet(
    lambda: source_free.source_free_selection(LONG_SOURCE)
  ),
  "source-free-mnist-long-readme": lambda: not_yet(
    lambda: source_free.source_free_table(
      LONG_SOURCE, "tljax/methods", beside=("dann",), benchmark="mnist_to_mnist_m"
    ),
    source_free.SOURCE_FREE_ANCHOR,
  ),
  "source-free-mnist-colour-selection": lambda: not_yet(
    lambda: source_free.source_free_selection(COLOUR_SOURCE)
  ),
  "published": methods.published,
  "digits-counts": datasets.digits_counts,
  "sentiment-counts": datasets.sentiment_counts,
  "folder-vs-tfds": datasets.folder_vs_tfds,
  "streaming": datasets.streaming,
  "reliability-cases": reliability.reliability_cases,
  "cpu-settings": performance.cpu_settings,
  "peers": performance.peers,
  "peers-by-machine": performance.peers_by_machine,
  "conv-pieces": performance.conv_pieces,
}


def render(text: str) -> str:
  """`text` with every generated block's body replaced by its function's output."""

  def fill(match):
    name = match.group(2)
    if name not in BLOCKS:
      raise KeyError(f"unknown generated block {name!r}; known: {sorted(BLOCKS)}")
    return f"{match.group(1)}{BLOCKS[name]().rstrip()}\n{match.group(4)}"

  return BLOCK.sub(fill, text)


def main(check: bool = False) -> int:
  """Rewrites (or with `check`, compares) every page's generated blocks; 1 if one differed."""
  stale = []
  for page in PAGES:
    path = os.path.join(ROOT, page)
    with open(path) as f:
      text = f.read()
    new = render(text)
    if new != text:
      stale.append(page)
      if not check:
        with open(path, "w") as f:
          f.write(new)
  verb = (
    "differ from docs/results/ (run python -m experiments.summarize --docs)"
    if check
    else "rewritten"
  )
  for page in stale:
    print(f"{page}: generated blocks {verb}", file=sys.stderr)
  return 1 if stale and check else 0


if __name__ == "__main__":
  sys.exit(main(check="--check" in sys.argv))

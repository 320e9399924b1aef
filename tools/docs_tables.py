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
add a block function here and its marker in the page.
"""

import json
import os
import re
import sys

import numpy as np

from tljax.analysis import runs as runs_lib
from tljax.analysis import tables

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "docs", "results")
PAGES = ["README.md"] + [
  os.path.join("docs", f)
  for f in sorted(os.listdir(os.path.join(ROOT, "docs")))
  if f.endswith(".md")
]
BLOCK = re.compile(r"(<!-- generated: ([\w-]+) -->\n)(.*?)(<!-- end generated -->)", re.S)

# The method benchmark's rows, in the README's order: (name, kind, paper).
METHODS = [
  ("source_only", "baseline", "–"),
  ("dann", "feature: adversarial", "Ganin et al. 2016"),
  ("cdan", "feature: adversarial", "Long et al. 2018"),
  ("cdan_e", "feature: adversarial", "Long et al. 2018"),
  ("mdd", "feature: adversarial", "Zhang et al. 2019"),
  ("mcd", "feature: adversarial", "Saito et al. 2018"),
  ("coral", "feature: statistics", "Sun & Saenko 2016"),
  ("dan", "feature: statistics", "Long et al. 2015"),
  ("jan", "feature: statistics", "Long et al. 2017"),
  ("mcc", "target regulariser", "Jin et al. 2020"),
  ("self_training", "pseudo-labels", "Sohn et al. 2020"),
  ("iw_erm", "instance: domain classifier", "Shimodaira 2000"),
  ("target_only", "oracle (reads target labels)", "–"),
]
PAIRS = {"digits → digits-M": "digits_to_digits_m", "MNIST → MNIST-M": "mnist_to_mnist_m"}


def _path(*parts: str) -> str:
  path = os.path.join(RESULTS, *parts)
  if not os.path.exists(path):
    raise FileNotFoundError(f"docs/results/{'/'.join(parts)} is missing: commit the runs first")
  return path


def _runs(*parts: str) -> list[runs_lib.Run]:
  found = runs_lib.find([_path(*parts)])
  if not found:
    raise FileNotFoundError(f"no finished run under docs/results/{'/'.join(parts)}")
  return found


def _json(*parts: str) -> dict:
  with open(_path(*parts)) as f:
    return json.load(f)


def _by_method(found) -> dict[str, dict[int, dict]]:
  """{method: {seed: results}}."""
  out = {}
  for run in found:
    r = run.results
    out.setdefault(r["method"], {})[r["seed"]] = r
  return out


def _acc(runs: dict[int, dict], key: str = "target_test_accuracy") -> np.ndarray:
  return np.array([runs[s][key] for s in sorted(runs)])


def _mean_std(values) -> str:
  values = np.asarray(values)
  return (
    f"{values.mean():.3f} ± {tables.std(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"
  )


def _points(value: float) -> str:
  return f"{100 * value:+.1f}"


def _table(header: list[str], rows: list[list]) -> str:
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
  return "\n".join(lines)


# --- The method benchmark -------------------------------------------------------------------


def _step_cost() -> dict[str, float]:
  return {
    k: v["relative_to_dann"]
    for k, v in _json("bench_methods", "bench_methods.json")["methods"].items()
  }


def method_benchmark(pair: str) -> str:
  """Every method on one pair: accuracy over seeds, gain over source only, cost."""
  by = _by_method(_runs("methods", pair))
  so = _acc(by["source_only"]).mean()
  cost = _step_cost()
  rows = []
  for name, _, _ in METHODS:
    if name not in by:
      continue
    runs = by[name]
    acc = _acc(runs)
    val = [r.get("target_val_accuracy") for r in runs.values()]
    gain = "" if name in ("source_only", "target_only") else _points(acc.mean() - so)
    rows.append([
      f"{name} (oracle)" if name == "target_only" else name,
      _mean_std(acc),
      f"{len(acc)}: " + ", ".join(f"{a:.3f}" for a in acc),
      gain,
      _mean_std([v for v in val]) if None not in val else "–",
      f"{_acc(runs, 'source_test_accuracy').mean():.3f}",
      f"{np.mean([r['wall_seconds'] for r in runs.values()]):.0f}",
      f"{cost[name]:.2f}" if name in cost else "–",
    ])  # fmt: skip
  header = [
    "method", "target test acc (mean ± sample std)", "seeds: per-seed acc",
    "gain vs source only (points)", "target val acc", "source test acc", "wall s per run",
    "step cost vs DANN",
  ]  # fmt: skip
  return _table(header, rows)


def method_verdicts(pair: str) -> str:
  """One sentence per adaptation method: gain, seeds better or worse, negative transfer."""
  by = _by_method(_runs("methods", pair))
  so = by["source_only"]
  lines = []
  for name, _, _ in METHODS:
    if name in ("source_only", "target_only") or name not in by:
      continue
    runs = by[name]
    seeds = sorted(set(runs) & set(so))
    better = sum(runs[s]["target_test_accuracy"] > so[s]["target_test_accuracy"] for s in seeds)
    gain = _acc(runs).mean() - _acc(so).mean()
    verdict = "**negative transfer**" if gain < 0 else "helps" if better == len(seeds) else "mixed"
    lines.append(
      f"- `{name}`: {_points(gain)} points over source only on average, better on {better} of "
      f"{len(seeds)} seeds: {verdict}."
    )
  return "\n".join(lines)


def validator_picks(pair: str) -> str:
  return tables.validator_table(_runs("methods", pair), ["method.name"])


def methods_summary() -> str:
  """The README's methods table: each method on both pairs, mean ± std (seeds)."""
  cells = {label: _by_method(_runs("methods", pair)) for label, pair in PAIRS.items()}
  rows = []
  for name, kind, paper in METHODS:
    link = f"[`{name}`](tljax/methods/{name}.py)"
    row = [kind, link, paper]
    for label in PAIRS:
      runs = cells[label].get(name)
      row.append(f"{_mean_std(_acc(runs))} ({len(runs)})" if runs else "not run")
    rows.append(row)
  return _table(["kind", "`method.name`", "paper", *[f"{p} (seeds)" for p in PAIRS]], rows)


def main_command() -> str:
  """What the README's first command gives: DANN seed 0, and the three baselines over seeds."""
  by = _by_method(_runs("methods", "digits_to_digits_m"))
  dann0 = by["dann"][0]
  so, dann, to = (_acc(by[m]) for m in ("source_only", "dann", "target_only"))
  walls = [r["wall_seconds"] for r in by["dann"].values()]
  return (
    f"`results.json` holds the target test accuracy of the final checkpoint: "
    f"**{dann0['target_test_accuracy']:.3f}** for seed 0. Over 3 seeds DANN reaches "
    f"{_mean_std(dann)} against {_mean_std(so)} for source only (trained on target labels: "
    f"{_mean_std(to)}); a run took {np.mean(walls):.0f} s on average on this project's 2 CPU "
    f"cores (`wall_seconds`, the benchmark's runs, which shared the machine with other work)."
  )


def main_command_log() -> str:
  """Progress lines of the digits DANN run, seed 0, as its command logged them (time stamps off)."""
  wanted = re.compile(r"^\d\d:\d\d:\d\d (step (250|2500)/|eval step 2500 |proxy A-distance)")
  with open(_path("methods", "digits_to_digits_m", "dann_seed0.log")) as f:
    lines = [line.rstrip("\n")[9:] for line in f if wanted.match(line)]
  return "```\n" + "\n".join(lines) + "\n```"


# --- Text ---------------------------------------------------------------------------------


GENRES = ("tweets", "movies", "products", "editorials")


def _sentiment() -> dict[tuple[str, str], dict[str, dict[int, dict]]]:
  """{(source genre, target genre): {method: {seed: results}}} of every committed text run."""
  out = {}
  for run in _runs("sentiment"):
    r = run.results
    pair = (r["source"].split("/")[1], r["target"].split("/")[1])
    out.setdefault(pair, {}).setdefault(r["method"], {})[r["seed"]] = r
  return out


def _pairs():
  return [(s, t) for s in GENRES for t in GENRES if s != t]


def text_pairs() -> str:
  """DANN between genres: every pair, PAD, source only, sklearn's logistic regression, oracle."""
  runs = _sentiment()
  logreg = {
    (r["source"].split("/")[1], r["target"].split("/")[1]): r["target_test_accuracy"]
    for r in _json("sentiment", "logreg_baseline.json")["runs"]
  }
  rows = []
  for pair in _pairs():
    by = runs[pair]
    so, dann, oracle = by["source_only"], by["dann"], by["target_only"]
    seeds = sorted(set(so) & set(dann))
    better = sum(dann[s]["target_test_accuracy"] > so[s]["target_test_accuracy"] for s in seeds)
    worse = sum(dann[s]["target_test_accuracy"] < so[s]["target_test_accuracy"] for s in seeds)
    gain = _acc(dann).mean() - _acc(so).mean()
    verdict = (
      f"helps ({better}/{len(seeds)} seeds better)" if better == len(seeds)
      else f"**hurts: negative transfer** ({worse}/{len(seeds)} seeds worse)" if worse == len(seeds)
      else "mixed"
    )  # fmt: skip
    rows.append([
      f"{pair[0]} → {pair[1]}", _mean_std([r["proxy_a_distance"]["inputs"] for r in so.values()]),
      _mean_std(_acc(so)),
      f"{logreg[pair]:.3f}", _mean_std(_acc(dann)), _mean_std(_acc(oracle)), _points(gain), verdict,
    ])  # fmt: skip
  header = [
    "pair", "PAD (inputs; mean ± std over the seeds' PAD splits)", "source only",
    "logistic regression (sklearn, source-trained)", "DANN", "target only (oracle)",
    "DANN − source only (points)", "verdict",
  ]  # fmt: skip
  return _table(header, rows)


def text_summary() -> str:
  """The text table in a sentence: pairs DANN helps or hurts, means, the baseline's mean."""
  runs = _sentiment()
  counts = {"helps": 0, "hurts": 0, "mixed": 0}
  means = {m: [] for m in ("source_only", "dann", "target_only")}
  for pair in _pairs():
    by = runs[pair]
    seeds = sorted(set(by["dann"]) & set(by["source_only"]))
    d = [by["dann"][s]["target_test_accuracy"] - by["source_only"][s]["target_test_accuracy"]
         for s in seeds]  # fmt: skip
    counts["helps" if min(d) > 0 else "hurts" if max(d) < 0 else "mixed"] += 1
    for m in means:
      means[m].append(_acc(by[m]).mean())
  logreg = np.mean(
    [r["target_test_accuracy"] for r in _json("sentiment", "logreg_baseline.json")["runs"]]
  )
  return (
    f"DANN beats source only on every seed on {counts['helps']} of the 12 pairs, is below it on "
    f"every seed on {counts['hurts']}, and is mixed on {counts['mixed']}. Averaged over the 12 "
    f"pairs: source only {np.mean(means['source_only']):.3f}, DANN {np.mean(means['dann']):.3f}, "
    f"target only {np.mean(means['target_only']):.3f}; scikit-learn's logistic regression on the "
    f"same input {logreg:.3f}."
  )


def text_validators() -> str:
  """Label-free picks between source only and DANN, the two methods with 3 seeds on every pair."""
  found = [r for r in _runs("sentiment") if r.results["method"] in ("source_only", "dann")]
  picks = tables.validator_picks(found, ["method.name"])
  rows = []
  for p in picks:
    counts = {"dann": 0, "source_only": 0, "tie": 0}
    for label in p.picked.values():
      counts["tie" if label.startswith("tie") else label] += 1
    rows.append([
      tables.ROW_NAMES.get(p.name, p.name), f"{counts['dann']} / {counts['source_only']}",
      p.ties, f"{p.mean:.3f} ± {p.std:.3f}",
    ])  # fmt: skip
  header = [
    "validator", f"picks DANN / source only (of {len(picks[0].picked)} pair-seeds)",
    "ties (the tied runs' mean accuracy)", "target test acc of its picks (mean ± sample std)",
  ]  # fmt: skip
  return _table(header, rows)


def text_more_methods() -> str:
  """Four more methods on every pair, seed 0: accuracy and points vs that seed's source only."""
  runs = _sentiment()
  methods = ("self_training", "cdan", "mcd", "jan")
  rows = []
  for pair in _pairs():
    by = runs[pair]
    so = by["source_only"][0]["target_test_accuracy"]
    row = [f"{pair[0]} → {pair[1]}", f"{so:.3f}", f"{by['dann'][0]['target_test_accuracy']:.3f}"]
    for m in methods:
      acc = by[m][0]["target_test_accuracy"]
      row.append(f"{acc:.3f} ({_points(acc - so)})")
    rows.append(row)
  return _table(["pair", "source only", "DANN", *methods], rows)


def text_timing() -> str:
  """The time of the 108 runs of the text table, from their results.json."""
  walls = [
    r.results["wall_seconds"]
    for r in _runs("sentiment")
    if r.results["method"] in ("source_only", "dann", "target_only")
  ]
  return (
    f"The {len(walls)} runs of the table took {sum(walls):,.0f} s of this machine's 2 cores in "
    f"all (`wall_seconds` in their results.json): {np.mean(walls):.1f} s per run on average, "
    f"{max(walls):.1f} s at most."
  )


BLOCKS = {
  "digits-methods": lambda: method_benchmark("digits_to_digits_m"),
  "digits-verdicts": lambda: method_verdicts("digits_to_digits_m"),
  "mnist-methods": lambda: method_benchmark("mnist_to_mnist_m"),
  "mnist-verdicts": lambda: method_verdicts("mnist_to_mnist_m"),
  "mnist-validators": lambda: validator_picks("mnist_to_mnist_m"),
  "digits-validators": lambda: validator_picks("digits_to_digits_m"),
  "methods-summary": methods_summary,
  "main-command": main_command,
  "main-command-log": main_command_log,
  "text-pairs": text_pairs,
  "text-summary": text_summary,
  "text-validators": text_validators,
  "text-more-methods": text_more_methods,
  "text-timing": text_timing,
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

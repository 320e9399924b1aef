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

from collections.abc import Callable
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
# Summaries beside committed runs (every README number stands in a file under docs/results/).
PAGES += [
  os.path.join("docs", "results", "source_free", pair, "source_free_summary.md")
  for pair in ("digits_to_digits_m", "mnist_to_mnist_m")
  if os.path.exists(os.path.join(ROOT, "docs", "results", "source_free", pair))
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
SPEECH_PAIRS = ("us_clean_to_accents_clean", "us_clean_to_accents_noisy")
# The README's methods table: the speech pairs as columns beside the image pairs.
SPEECH_COLUMNS = {"speech → accents": SPEECH_PAIRS[0], "speech → accents, noisy": SPEECH_PAIRS[1]}


def _path(*parts: str) -> str:
  path = os.path.join(RESULTS, *parts)
  if not os.path.exists(path):
    raise FileNotFoundError(f"docs/results/{'/'.join(parts)} is missing: commit the runs first")
  return path


def _dirs(*parts: str) -> list[str]:
  """The sub-directories of docs/results/PARTS, sorted."""
  root = _path(*parts)
  return sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))


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
  return tables.markdown(header, rows)


# --- The method benchmark -------------------------------------------------------------------


def _step_cost() -> dict[str, float]:
  return {
    k: v["relative_to_dann"]
    for k, v in _json("bench_methods", "bench_methods.json")["methods"].items()
  }


def method_benchmark(pair: str, root: str = "methods") -> str:
  """Every method on one pair: accuracy over seeds, gain over source only, cost.

  The step cost (benchmarks.bench --methods) is the digits network's: shown for `methods`.
  """
  by = _by_method(_runs(root, pair))
  so = _acc(by["source_only"]).mean()
  cost = _step_cost() if root == "methods" else {}
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


def method_verdicts(pair: str, root: str = "methods") -> str:
  """One sentence per adaptation method: gain, seeds better or worse, negative transfer."""
  by = _by_method(_runs(root, pair))
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


def validator_picks(pair: str, root: str = "methods") -> str:
  return tables.validator_table(_runs(root, pair), ["method.name"])


def speech_pads() -> str:
  """The speech pairs' proxy A-distance in the input (log-mel statistics) and in the features."""
  rows = []
  for pair in SPEECH_PAIRS:
    by = _by_method(_runs("speech", pair))
    for name in ("source_only", "dann"):
      runs = by[name]
      pad = [runs[s]["proxy_a_distance"] for s in sorted(runs)]
      rows.append(
        [pair.replace("_to_", " → "), name, _mean_std([p["inputs"] for p in pad]),
         _mean_std([p["features"] for p in pad])]
      )  # fmt: skip
  header = ["pair", "method", "PAD in the input (mel-band statistics)", "PAD in the features"]
  return _table(header, rows)


def speech_build() -> str:
  """tools.prepare_datasets' timed first build of the three spoken-digit domains."""
  data = _json("speech", "build.json")
  rows = [
    [
      f"`{name}`",
      f"{b['examples']['train']:,}",
      f"{b['examples']['test']:,}",
      f"{b['seconds']:.0f}",
    ]
    for name, b in data["builds"].items()
  ]
  return (
    _table(["dataset", "train", "test", "build s"], rows)
    + f"\n\nOn {data['cpu_count']} CPU cores: `{data['command']}`."
  )


def methods_summary() -> str:
  """The README's methods table: each method on both pairs, mean ± std (seeds); the source-free
  methods as a group, each seed's learning rate picked by the label-free info_max."""
  cells = {label: _by_method(_runs("methods", pair)) for label, pair in PAIRS.items()}
  cells.update({label: _by_method(_runs("speech", p)) for label, p in SPEECH_COLUMNS.items()})
  rows = []
  for name, kind, paper in METHODS:
    link = f"[`{name}`](tljax/methods/{name}.py)"
    row = [kind, link, paper]
    for label in cells:
      runs = cells[label].get(name)
      row.append(f"{_mean_std(_acc(runs))} ({len(runs)})" if runs else "not run")
    rows.append(row)
  for name, paper in SOURCE_FREE_PAPERS.items():
    row = ["no source data (`optim.lr` by info_max)", f"[`{name}`](tljax/methods/{name}.py)", paper]
    for pair in PAIRS.values():
      try:
        picked = _picked(_source_free(pair)[1], name, SELECTION_RULES["info_max (label-free)"])
      except FileNotFoundError:
        picked = []
      row.append(f"{_mean_std(picked)} ({len(picked)})" if picked else "not run")
    rows.append(row + ["not run"] * len(SPEECH_COLUMNS))
  header = ["kind", "`method.name`", "paper", *[f"{p} (seeds)" for p in cells]]
  return _table(header, rows)


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


# --- Recipes, validators, discrepancy ---------------------------------------------------------


def paper_recipe() -> str:
  """The DANN paper's plain recipe beside tljax's on the digits pair (same seeds)."""
  paper = _by_method(_runs("paper", "digits_to_digits_m"))
  recipe = _by_method(_runs("methods", "digits_to_digits_m"))
  rows = []
  for label, by in (
    ("the paper's (`configs/digits.py:paper`)", paper),
    ("tljax's (default)", recipe),
  ):
    so, dann = _acc(by["source_only"]), _acc(by["dann"])
    seeds = sorted(set(by["source_only"]) & set(by["dann"]))
    worse = sum(
      by["dann"][s]["target_test_accuracy"] < by["source_only"][s]["target_test_accuracy"]
      for s in seeds
    )
    rows.append(
      [
        label,
        _mean_std(so),
        _mean_std(dann),
        _points(dann.mean() - so.mean()),
        f"{worse} of {len(seeds)}",
      ]
    )
  return _table(
    ["recipe", "source only", "DANN", "DANN − source only (points)", "seeds DANN worse"], rows
  )


def tradeoff_validators() -> str:
  """DANN's trade-off on MNIST -> MNIST-M: accuracy per setting, then each rule's pick."""
  found = _runs("mnist_validators")
  by = {}
  for run in found:
    by.setdefault(run.field("method.dann.trade_off"), {})[run.results["seed"]] = run.results
  rows = [
    [t, _mean_std(_acc(runs)), _mean_std(_acc(runs, "target_val_accuracy")),
     ", ".join(f"{runs[s]['target_test_accuracy']:.3f}" for s in sorted(runs))]
    for t, runs in sorted(by.items())
  ]  # fmt: skip
  head = _table(["trade-off", "target test acc", "target val acc", "per seed"], rows)
  return head + "\n\n" + tables.validator_table(found, ["method.dann.trade_off"])


def reverse_scores() -> str:
  """The network-level reverse validation scores per trade-off and seed."""
  rows = []
  for run in sorted(
    _runs("mnist_validators"), key=lambda r: (r.field("method.dann.trade_off"), r.results["seed"])
  ):
    score = (run.results.get("validators") or {}).get("reverse_dann")
    rows.append(
      [
        run.field("method.dann.trade_off"),
        run.results["seed"],
        "–" if score is None else f"{score:.3f}",
      ]
    )
  return _table(["trade-off", "seed", "reverse DANN's accuracy on source val"], rows)


def pad_table(pair: str = "mnist_to_mnist_m") -> str:
  """Proxy A-distance between the test sets in pixels and in the final features, per method."""
  by = _by_method(_runs("methods", pair))
  rows = []
  for name in ("source_only", "dann", "self_training", "target_only"):
    runs = by[name]
    feats = [runs[s]["proxy_a_distance"]["features"] for s in sorted(runs)]
    pixels = [runs[s]["proxy_a_distance"]["pixels"] for s in sorted(runs)]
    rows.append([name, ", ".join(f"{f:.2f}" for f in feats), _mean_std(pixels)])
  return _table(["method", "PAD in the final features, per seed", "PAD in pixels"], rows)


# --- The other kinds of transfer ----------------------------------------------------------------


def instance_weighting() -> str:
  """Instance weighting under a selection bias (configs/iw_digits.py), 3 seeds."""
  by = _by_method(_runs("iw_digits"))
  inputs = _by_method(_runs("iw_digits_variants", "inputs"))
  rows = []
  for label, runs in (
    ("source only", by["source_only"]),
    ("`iw_erm` (domain classifier on features)", by["iw_erm"]),
    ("`iw_erm` on 8x8 pooled pixels (`on=inputs`)", inputs["iw_erm"]),
    ("`kmm` (8x8 pixels)", by["kmm"]),
    ("`kliep` (8x8 pixels, 100 centres)", by["kliep"]),
    ("target only (all 599 unbiased digits, labelled)", by["target_only"]),
  ):
    acc = _acc(runs)
    rows.append([label, _mean_std(acc), ", ".join(f"{a:.3f}" for a in acc)])
  return _table(["method", "target test acc (3 seeds)", "per seed"], rows)


def finetune_table(name: str) -> str:
  """experiments.finetune's accuracy per label budget and mode (mean ± std over seeds)."""
  results = _json("finetune", name, "results.json")
  accuracy = results["accuracy"]
  modes = list(accuracy)
  keys = sorted(
    {k for cells in accuracy.values() for k in cells},
    key=lambda k: (k == "all", int(k) if k != "all" else 0),
  )
  rows = []
  for k in keys:
    row = [k]
    for mode in modes:
      cell = accuracy[mode].get(k)
      row.append("–" if cell is None else _mean_std(list(cell["per_seed"].values())))
    rows.append(row)
  seeds = sorted({r["seed"] for r in results["runs"]})
  table = _table(["labels per class", *modes], rows)
  pre = results["pretrained_target_test_accuracy"]
  return table + (
    f"\n\nMean ± sample std over seeds {seeds}; final checkpoints. The pretrained network "
    f"alone (no target labels): {pre:.3f} on the target test set."
  )


def finetune_verdicts(name: str) -> str:
  results = _json("finetune", name, "results.json")
  return "\n".join(f"- {v}" for v in results["verdicts"])


def distillation() -> str:
  """distill from the digits benchmark's self-training run, seed 0, beside its baselines."""
  student = _acc(_by_method(_runs("distill_digits"))["distill"])
  bench = _by_method(_runs("methods", "digits_to_digits_m"))
  teacher = bench["self_training"][0]["target_test_accuracy"]
  rows = [
    ["teacher: the benchmark's `self_training` run, seed 0", f"{teacher:.3f}", "1"],
    ["`distill` (T = 2, trade-off 1)", _mean_std(student), str(len(student))],
    ["source only", _mean_std(_acc(bench["source_only"])), str(len(bench["source_only"]))],
    ["DANN", _mean_std(_acc(bench["dann"])), str(len(bench["dann"]))],
  ]
  return _table(["", "target test acc", "seeds"], rows)


def ranking() -> str:
  """Source ranking: each candidate's scores and fine-tuned accuracy, then each score's quality."""
  data = _json("ranking", "ranking.json")
  names = ("logme", "leep", "nce", "h_score")
  rows = []
  for run, scores in sorted(data["scores"].items(), key=lambda kv: -kv[1]["logme"]):
    label = run.split("runs/")[-1]
    rows.append(
      [label, *[f"{scores[n]:.3f}" for n in names], f"{scores['finetuned_accuracy']:.3f}"]
    )
  first = _table(["candidate", *names, "fine-tuned acc"], rows)
  rows = [
    [n, f"{v['kendall_tau']:.2f}", v["top_ranked"].split("runs/")[-1], f"{v['accuracy_lost']:.3f}"]
    for n, v in data["validation"].items()
  ]
  second = _table(
    ["score", "Kendall's τ with fine-tuned acc", "its top pick", "accuracy lost vs the best"], rows
  )
  return first + "\n\n" + second


def _not_yet(fn: Callable[[], str], anchor: str | None = None) -> str:
  """fn()'s cell, or that the runs are not there yet (with `anchor`: a README pointer to the
  section of docs/results.md that says so)."""
  try:
    return fn()
  except FileNotFoundError:
    where = f" ([results](docs/results.md#{anchor}))" if anchor else ""
    return f"not run with this wave's code yet{where}"


def other_kinds() -> str:
  """The README's table of the other kinds of transfer, one line of results each."""
  iw = _by_method(_runs("iw_digits"))

  def finetune_cell() -> str:
    acc = _json("finetune", "digits", "results.json")["accuracy"]
    cell = lambda m, k: _mean_std(list(acc[m][k]["per_seed"].values()))  # noqa: E731
    seeds = len(acc["finetune"]["5"]["per_seed"])
    return f"digits → digits-M, 5 / 50 labels per class, {seeds} seed(s): " + "; ".join(
      f"{m} {cell(m, '5')} / {cell(m, '50')}" for m in ("target_only", "finetune", "linear_probe")
    )

  def distill_cell() -> str:
    distill = _acc(_by_method(_runs("distill_digits"))["distill"])
    return f"digits → digits-M from the self-training run as teacher, 3 seeds: {_mean_std(distill)}"

  def co_tuning_cell() -> str:
    parity = _json("finetune", "parity_mnist_mnistm", "results.json")["accuracy"]
    cell = lambda m, k: _mean_std(list(parity[m][k]["per_seed"].values()))  # noqa: E731
    return "MNIST digits → MNIST-M even/odd, 5 / 50 labels per class: " + ", ".join(
      f"{m} {cell(m, '5')} / {cell(m, '50')}" for m in ("co_tuning", "finetune")
    )

  def ranking_cell() -> str:
    rank = _json("ranking", "ranking.json")["validation"]
    return "Kendall's τ with fine-tuned accuracy: " + ", ".join(
      f"{n} {v['kendall_tau']:.2f}" for n, v in rank.items()
    )

  rows = [
    [
      "instance: density-ratio weights",
      ", ".join(f"[`{m}`](tljax/methods/{m}.py)" for m in ("iw_erm", "kmm", "kliep")),
      "Shimodaira 2000; Huang et al. 2007; Sugiyama et al. 2008",
      "digits with a stroke-mass selection bias → unbiased digits, 3 seeds: "
      + ", ".join(
        f"{m} {_mean_std(_acc(iw[m]))}" for m in ("source_only", "iw_erm", "kmm", "kliep")
      ),
    ],
    [
      "model: pretrained start",
      "`experiments.finetune` modes (also `l2sp`, `lp_ft`, `bss`, `delta`)",
      "Li et al. 2018; Kumar et al. 2022; Chen et al. 2019; Li et al. 2019",
      _not_yet(finetune_cell, "fine-tuning-modes-mnist--mnist-m"),
    ],
    [
      "relation: teacher",
      "[`distill`](tljax/methods/distill.py)",
      "Hinton et al. 2015",
      _not_yet(distill_cell, "distillation-from-an-adapted-teacher-digits--digits-m"),
    ],
    [
      "relation: label sets",
      "[`co_tuning`](tljax/methods/co_tuning.py)",
      "You et al. 2020",
      _not_yet(co_tuning_cell, "fine-tuning-modes-mnist--mnist-m"),
    ],
    [
      "ranking sources",
      "`python -m experiments.rank_sources`",
      "You et al. 2021; Nguyen et al. 2020; Tran et al. 2019; Bao et al. 2019",
      _not_yet(ranking_cell, "ranking-candidate-sources-before-fine-tuning"),
    ],
  ]
  return _table(["kind", "where", "paper", "measured here (target test accuracy)"], rows)


# --- Source-free adaptation ---------------------------------------------------------------------

SOURCE_FREE_PAPERS = {
  "shot_im": "Liang et al. 2020",
  "shot": "Liang et al. 2020",
  "nrc": "Yang et al. 2021",
}
SOURCE_FREE = tuple(SOURCE_FREE_PAPERS)
SUMMARY_LINKS = "../../../../tljax/methods"  # From docs/results/source_free/<pair>/.
SOURCE_FREE_ANCHOR = "without-the-source-data-source-free-adaptation"
SELECTION_RULES = {  # How a learning rate is picked per seed among a method's source-free runs.
  "entropy (label-free)": lambda r: -r["validators"]["entropy"],
  "info_max (label-free)": lambda r: r["validators"]["info_max"],
  "oracle selection (target val labels)": lambda r: r["target_val_accuracy"],
}


def _source_free(pair: str) -> tuple[dict, dict]:
  """({seed: source run}, {(method, lr): {seed: run}}) of docs/results/source_free/PAIR."""
  sources = {r.results["seed"]: r.results for r in _runs("source_free", pair, "source")}
  adapted = {}
  for run in _runs("source_free", pair):
    r = run.results
    if r["method"] in SOURCE_FREE:
      adapted.setdefault((r["method"], r["config"]["optim"]["lr"]), {})[r["seed"]] = r
  return sources, adapted


def _picks(adapted: dict, method: str, score) -> list[tuple[float, dict]]:
  """(rate, run) per seed (those every rate ran): `method`'s run with the best `score`."""
  runs = {lr: seeds for (m, lr), seeds in adapted.items() if m == method}
  seeds = sorted(set.intersection(*(set(v) for v in runs.values()))) if runs else []
  picks = [max(runs, key=lambda lr, s=s: score(runs[lr][s])) for s in seeds]
  return [(lr, runs[lr][s]) for lr, s in zip(picks, seeds)]


def _picked(adapted: dict, method: str, score) -> list[float]:
  """Target test accuracy per seed of `method`'s run with the best `score` among its rates."""
  return [run["target_test_accuracy"] for _, run in _picks(adapted, method, score)]


def source_free_table(
  pair: str = "digits_to_digits_m", links: str = "../tljax/methods", beside: tuple = ()
) -> str:
  """Source-free methods per learning rate beside the source model they start from, and the
  `beside` methods of the method benchmark, which trained with the source data."""
  sources, adapted = _source_free(pair)
  rows = [["source model (`source_only`)", "–", _mean_std(_acc(sources)), "–", "–"]]
  with_source = _by_method(_runs("methods", pair)) if beside else {}
  for name in beside:
    runs = with_source[name]
    rows.append([f"`{name}`, with the source data", "–", _mean_std(_acc(runs)), "–", "–"])
  order = lambda item: (SOURCE_FREE.index(item[0][0]), -item[0][1])  # noqa: E731
  for (method, lr), runs in sorted(adapted.items(), key=order):
    gain = [runs[s]["target_test_accuracy"] - sources[s]["target_test_accuracy"] for s in runs]
    rows.append([
      f"[`{method}`]({links}/{method}.py)", f"{lr:g}", _mean_std(_acc(runs)),
      _points(float(np.mean(gain))), f"{sum(g < 0 for g in gain)} of {len(runs)}",
    ])  # fmt: skip
  return _table(
    ["method", "`optim.lr`", "target test accuracy", "vs source model (points)", "seeds worse"],
    rows,
  )


def source_free_selection(pair: str = "digits_to_digits_m") -> str:
  """Which learning rate each rule picks per method and seed, and the accuracy that gives."""
  _, adapted = _source_free(pair)
  rows = []
  for method in SOURCE_FREE:
    for rule, score in SELECTION_RULES.items():
      picks = _picks(adapted, method, score)
      if picks:
        rates = ", ".join(f"{lr:g}" for lr, _ in picks)
        accuracy = _mean_std([run["target_test_accuracy"] for _, run in picks])
        rows.append([f"`{method}`", rule, rates, accuracy])
  header = ["method", "picks by", "`optim.lr` picked (per seed)", "target test accuracy"]
  return _table(header, rows)


def published() -> str:
  """Published numbers for the same methods (in %), with how each was selected."""
  data = _json("references", "published_digits.json")
  rows = [[r["method"], r["tllib"], r["paper"]] for r in data["rows"]]
  return _table(["method", data["tllib_header"], "original paper"], rows)


def published_label_sets() -> str:
  """Published label-set numbers (in %, other data and networks), with how each was selected."""
  data = _json("references", "published_label_sets.json")
  rows = [
    [r["setting"], r["data"], r["method"], r["paper"], r["tllib"], r["selection"]]
    for r in data["rows"]
  ]
  header = ["setting", "data and measure", "method", "original paper", "TLlib", "selection"]
  return _table(header, rows)


def published_shot() -> str:
  """SHOT's published digits accuracies (other pairs), with where they were read."""
  data = _json("references", "published_shot_digits.json")
  rows = [[r["task"], f"`{r['method']}`", f"{r['accuracy']:.1f}"] for r in data["rows"]]
  return (
    _table(["task (not tljax's pair)", "method", "accuracy (%)"], rows)
    + f"\n\nFrom {data['paper']}; read at {data['source']} Selection: {data['selection']}."
  )


def published_domainbed(dataset: str) -> str:
  """DomainBed's published MNIST table for `dataset` (both selection rules, oracle apart)."""
  data = _json("references", "published_domainbed_mnist.json")
  envs = data["environments"][dataset]
  rows = []
  for table in data["tables"]:
    if table["dataset"] != dataset:
      continue
    for row in table["rows"]:
      method = f"`{data['tljax_method'][row['algorithm']]}`"
      rows.append([table["selection"], f"{row['algorithm']} ({method})", *row["cells"]])
  return _table(["selection", "algorithm (tljax)", *envs, "average"], rows)


def domainbed_runs(dataset: str) -> str:
  """tljax's DomainBed tables on `dataset` ("colored", "rotated"), one per selection rule, from
  the committed runs under docs/results/domainbed/<dataset>/."""
  from configs import domainbed_mnist  # pylint: disable=g-import-not-at-top
  from tljax.run import domainbed as protocol  # pylint: disable=g-import-not-at-top

  return protocol.summary(_runs("domainbed", dataset), domainbed_mnist.ENVIRONMENTS[dataset])


# --- Data ---------------------------------------------------------------------------------------


def digits_counts() -> str:
  """The embedded digits pair's split sizes (tools.dataset_counts)."""
  data = _json("data", "counts.json")
  what = {
    "digits": ("source", "gray 28×28×1 (repeated to RGB for the network)"),
    "digits_m": ("target", "RGB 28×28×3 (each train digit on 10 backgrounds)"),
  }
  rows = [
    [f"`{name}`", domain, f"{data[name]['train']['examples']:,}",
     f"{data[name]['test']['examples']:,}", images]
    for name, (domain, images) in what.items()
  ]  # fmt: skip
  return _table(["TFDS name", "domain", "train", "test", "images"], rows)


def sentiment_counts() -> str:
  """The sentiment genres' split sizes and positive shares (tools.dataset_counts)."""
  data = _json("data", "counts.json")
  genres = {
    "tweets": "tweets",
    "movies": "movie-review sentences",
    "products": "product-review sentences",
    "editorials": "newspaper-editorial sentences",
  }
  positive = lambda s: f"{100 * s['labels'].get('1', 0) / s['examples']:.1f}%"  # noqa: E731
  rows = []
  for genre, words in genres.items():
    d = data[f"sentiment/{genre}"]
    rows.append(
      [f"`sentiment/{genre}`", words, f"{d['train']['examples']:,}", f"{d['test']['examples']:,}",
       f"{positive(d['train'])} / {positive(d['test'])}"]
    )  # fmt: skip
  return _table(["TFDS name", "genre", "train", "test", "positive (train / test)"], rows)


def folder_vs_tfds() -> str:
  """DANN on the embedded digits through the folder path and through the TFDS builders."""
  folder = _acc(_by_method(_runs("data", "folder_digits"))["dann"])
  tfds = _acc(_by_method(_runs("methods", "digits_to_digits_m"))["dann"])
  rows = [
    ["`folder:` (PNG folders)", _mean_std(folder), ", ".join(f"{a:.3f}" for a in folder)],
    ["TFDS builders (the benchmark)", _mean_std(tfds), ", ".join(f"{a:.3f}" for a in tfds)],
  ]
  return _table(["path", "DANN target test acc", "per seed"], rows)


def streaming() -> str:
  """The streamed ResNet-18 run: its log and `/usr/bin/time -v`'s report, committed as written."""
  with open(_path("data", "streaming_resnet18_time.txt")) as f:
    text = f.read()

  def field(name: str) -> str:
    return re.search(rf"\t{re.escape(name)}: (.+)", text).group(1).strip()

  splits = re.findall(r"(folder:\S+): (\d+) images, ([\d.]+) GB decoded: (.+)", text)
  decoded = sum(float(gb) for _, _, gb, _ in splits)
  rss_gb = int(field("Maximum resident set size (kbytes)")) * 1024 / 1e9
  rows = [[f"`{name}`", images, f"{float(gb):.2f} GB", how] for name, images, gb, how in splits]
  table = _table(["split", "images", "decoded size", "how the run read it"], rows)
  return (
    f"{table}\n\nAll four splits decoded: {decoded:.2f} GB. The run's peak resident set "
    f"size: {rss_gb:.2f} GB (exit status {field('Exit status')}, wall "
    f"{field('Elapsed (wall clock) time (h:mm:ss or m:ss)')}, "
    f"{field('Percent of CPU this job got')} of a CPU), evaluation and PAD included."
  )


# --- Label sets that differ -----------------------------------------------------------------------

LABEL_SET_METHODS = ("source_only", "dann", "cdan", "pada", "osbp", "ovanet", "uan", "target_only")


def label_set_table(setting: str, pair: str = "digits_to_digits_m") -> str:
  """One label-set protocol on one pair: each method's measures over seeds, final checkpoints."""
  by = _by_method(_runs("label_sets", setting, pair))
  open_set = setting != "partial"
  measures = (
    [("target_test_hos", "HOS"), ("target_test_os_star", "OS*"), ("target_test_unk", "UNK"),
     ("target_test_accuracy", "accuracy")]
    if open_set
    else [("target_test_accuracy", "accuracy"), ("mean_class_recall", "mean class recall")]
  )  # fmt: skip
  rows = []
  for name in LABEL_SET_METHODS:
    if name not in by:
      continue
    runs = by[name]
    cells = []
    for key, _ in measures:
      if key == "mean_class_recall":
        values = [runs[s]["final"]["target_test"]["mean_class_recall"] for s in sorted(runs)]
      else:
        values = _acc(runs, key)
      cells.append(_mean_std(values))
    per_seed = ", ".join(f"{v:.3f}" for v in _acc(runs, measures[0][0]))
    rows.append([f"{name} (oracle)" if name == "target_only" else name, *cells, per_seed])
  header = ["method", *[f"{label} (mean ± sample std)" for _, label in measures],
            f"per seed ({measures[0][1]})"]  # fmt: skip
  return _table(header, rows)


def _never_unknown(runs: dict[int, dict]) -> bool:
  """Whether a method predicted "unknown" for no target example on any seed (a closed-set method:
  its UNK and HOS are 0 by construction)."""
  return not _acc(runs, "target_test_unk").any()


def label_set_verdicts(setting: str, pair: str = "digits_to_digits_m") -> str:
  """Each adaptation method against source only on the setting's headline measure; for a method
  that never predicts unknown, also on OS*, the known classes."""
  by = _by_method(_runs("label_sets", setting, pair))
  key, label = (
    ("target_test_accuracy", "accuracy") if setting == "partial" else ("target_test_hos", "HOS")
  )
  so = by["source_only"]

  def versus(runs: dict, key: str) -> tuple[float, int, int]:
    seeds = sorted(set(runs) & set(so))
    worse = sum(runs[s][key] < so[s][key] for s in seeds)
    return _acc(runs, key).mean() - _acc(so, key).mean(), worse, len(seeds)

  def verdict(gain: float, worse: int) -> str:
    if abs(gain) < 1e-9:
      return "no change"
    return "**negative transfer**" if gain < 0 else "helps" if worse == 0 else "mixed"

  lines = []
  for name in LABEL_SET_METHODS:
    if name in ("source_only", "target_only") or name not in by:
      continue
    gain, worse, n = versus(by[name], key)
    line = f"- `{name}`: {_points(gain)} points of {label} over source only, worse on {worse} of "
    if setting != "partial" and _never_unknown(by[name]):
      known, worse_known, n_known = versus(by[name], "target_test_os_star")
      lines.append(
        f"{line}{n} seeds: it never predicts unknown; on the known classes (OS*) "
        f"{_points(known)} points, worse on {worse_known} of {n_known} seeds: "
        f"{verdict(known, worse_known)}."
      )
    else:
      lines.append(f"{line}{n} seeds: {verdict(gain, worse)}.")
  return "\n".join(lines)


LABEL_SET_PAIRS = {"digits_to_digits_m": "digits → digits-M", "mnist_to_mnist_m": "MNIST → MNIST-M"}


def _label_set_cell(by: dict, name: str, setting: str) -> str:
  """One method's headline measure on one setting (OS* beside it for a method that never predicts
  unknown; the seed count where it is not 3)."""
  if name not in by:
    return "not run yet"
  key, label = (
    ("target_test_accuracy", "accuracy") if setting == "partial" else ("target_test_hos", "HOS")
  )
  cell = f"{label} {_mean_std(_acc(by[name], key))}"
  if setting != "partial" and _never_unknown(by[name]):
    cell += f" (no unknown; OS* {_mean_std(_acc(by[name], 'target_test_os_star'))})"
  if len(by[name]) != 3:
    cell += f" ({len(by[name])} seed{'s' if len(by[name]) > 1 else ''})"
  return cell


def label_sets_summary() -> str:
  """The README's rows for label sets that differ: a row group per setting, a column per pair."""
  papers = {
    "pada": "Cao et al. 2018", "osbp": "Saito et al. 2018", "ovanet": "Saito & Saenko 2021",
    "uan": "You et al. 2019",
  }  # fmt: skip
  rows = []
  for setting, words in (("partial", "partial set: target 0-4"),
                         ("openset", "open set: source 0-5, target 0-9"),
                         ("universal", "universal: source 0-7, target 3-9")):  # fmt: skip
    by_pair = {}
    for pair in LABEL_SET_PAIRS:
      try:
        by_pair[pair] = _by_method(_runs("label_sets", setting, pair))
      except FileNotFoundError:
        by_pair[pair] = {}
    for name in LABEL_SET_METHODS:
      if name in by_pair["digits_to_digits_m"]:
        link = f"[`{name}`](tljax/methods/{name}.py)"
        cells = [_label_set_cell(by, name, setting) for by in by_pair.values()]
        rows.append([words, link, papers.get(name, "–"), *cells])
  header = ["setting (`configs/<pair>.py:...`)", "`method.name`", "paper",
            *[f"{words}, 3 seeds" for words in LABEL_SET_PAIRS.values()]]  # fmt: skip
  return _table(header, rows)


# --- Test-time adaptation -----------------------------------------------------------------------

TTA_RUNS = (  # (method, mode) in the order of the table's columns.
  ("source", "continual"), ("adabn", "continual"), ("adabn", "episodic"), ("tent", "continual"),
  ("tent", "episodic"), ("eata", "continual"), ("eata", "episodic"),
)  # fmt: skip


def _tta(*parts: str) -> dict:
  return _json("tta", *parts, "results.json")


def tta_source() -> str:
  """The source run the MNIST-C methods start from."""
  r = _json("tta", "source_mnist_bn", "results.json")
  return (
    f"Source run (`source_only`, BatchNorm, {r['steps']:,} steps, seed {r['seed']}): MNIST test "
    f"accuracy {r['source_test_accuracy']:.3f}, MNIST-M test accuracy "
    f"{r['target_test_accuracy']:.3f}."
  )


def tta_source_mnist_m() -> str:
  """The MNIST-M-trained run the colour-corruption methods start from."""
  r = _json("tta", "source_mnist_m_bn", "results.json")
  return (
    f"Source run (`target_only` on MNIST-M's training labels, BatchNorm, {r['steps']:,} steps, "
    f"seed {r['seed']}): clean MNIST-M test accuracy {r['target_test_accuracy']:.3f}."
  )


def tta_corruptions(directory: str = "mnist_c") -> str:
  """Online error per corruption, each method and mode under docs/results/tta/`directory`; the
  mean over corruptions last."""
  found = {(m, mode): _tta(directory, f"{m}_{mode}") for m, mode in TTA_RUNS}
  targets = found[TTA_RUNS[0]]["plan"]["targets"]
  header = ["corruption"] + [f"{m} ({mode})" if m != "source" else "source" for m, mode in found]
  rows = []
  for name in targets:
    row = [name.split("/")[1]]
    for r in found.values():
      acc = next(p["accuracy"] for p in r["accuracy"] if p["target"] == name and p["pass"] == 0)
      row.append(f"{1 - acc:.3f}")
    rows.append(row)
  rows.append(["**mean**"] + [f"**{r['mean_error_first_pass']:.3f}**" for r in found.values()])
  return _table(header, rows)


def tta_learning_rates() -> str:
  """Tent (continual) at four learning rates: mean online error over the corruptions."""
  runs = {
    float(d.removeprefix("tent_lr")): _tta("mnist_c_lr", d) for d in _dirs("tta", "mnist_c_lr")
  }
  runs[_tta("mnist_c", "tent_continual")["plan"]["lr"]] = _tta("mnist_c", "tent_continual")
  rows = [[f"{lr:g}", f"{runs[lr]['mean_error_first_pass']:.3f}"] for lr in sorted(runs)]
  return _table(["Tent learning rate", "mean online error"], rows)


def tta_long(directory: str = "mnist_c_long") -> str:
  """A corruption sequence many times over (docs/results/tta/`directory`): online accuracy per
  pass, and the top class's share."""
  runs = {m: _tta(directory, m) for m in ("tent", "eata")}
  passes = runs["tent"]["plan"]["repeats"]
  rows = []
  for k in range(passes):
    row = [str(k + 1)]
    for r in runs.values():
      accs = [p["accuracy"] for p in r["accuracy"] if p["pass"] == k]
      share = [x for x, q in zip(r["batches"]["top_class_share"], r["batches"]["pass"]) if q == k]
      row += [f"{np.mean(accs):.3f}", f"{np.mean(share):.2f}"]
    rows.append(row)
  header = ["pass"] + [f"{m} {what}" for m in runs for what in ("accuracy", "top-class share")]
  verdicts = []
  for m, r in runs.items():
    first, last = (
      np.mean([p["accuracy"] for p in r["accuracy"] if p["pass"] == k]) for k in (0, passes - 1)
    )
    collapsed = last < first - 0.05 or max(r["batches"]["top_class_share"]) > 0.5
    verdicts.append(
      f"{m} (learning rate {r['plan']['lr']:g}): {first:.3f} in the first pass, {last:.3f} in "
      f"the last: " + ("**it collapsed**" if collapsed else "no collapse on this stream")
    )
  return _table(header, rows) + "\n\n" + "; ".join(verdicts) + "."


def seeds_speedup() -> str:
  """benchmarks.bench_seeds on the MNIST -> MNIST-M config: one seed's step against the
  vectorised step of N seeds, interleaved rounds, and the equality check."""
  r = _json("performance", "bench_seeds_mnist_mnistm.json")
  rows = [
    [words, f"{r[key]['median']:.4f}", ", ".join(f"{x:.4f}" for x in r[key]["per_round"]),
     f"{r['compile_seconds'][program]:.1f}"]
    for words, key, program in (
      ("one seed, `jit(step)`", "one_seed_seconds_per_step", "one"),
      (f"{r['seeds']} seeds, `jit(vmap(step))`", "vectorised_seconds_per_step", "vectorised"),
    )
  ]  # fmt: skip
  header = ["step", "median s per step", "per round", "compile s"]
  return (
    _table(header, rows) + f"\n\n{r['seeds']} seeds in one program train "
    f"{r['speedup']:.2f}× as fast as one after another ({r['seeds']} × one seed's median / the "
    f"vectorised median; {r['config_method']}, {r['batch_size_per_domain']} images per domain "
    f"per step, {r['dtype']}). After {r['check_steps']} steps each seed's slice differs from "
    f"that seed alone by at most {r['max_relative_difference']:.1e} of the leaf's scale."
  )


# --- Reliability --------------------------------------------------------------------------------


def reliability_cases() -> str:
  """tools.adversarial's cases: what was tried, what happened, whether it was expected."""
  data = _json("reliability", "cases.json")
  cases = data["cases"]
  rows = [
    [c["group"], c["case"], c["outcome"].replace("|", "/").replace("\n", " "),
     "yes" if c["as_expected"] else "**no**"]
    for c in cases
  ]  # fmt: skip
  ok = sum(c["as_expected"] for c in cases)
  return (
    f"{ok} of {len(cases)} cases as expected (`python -m tools.adversarial --out "
    f"docs/results/reliability/cases.json`, Python {data['python']}).\n\n"
    + _table(["group", "case", "what happened", "as expected"], rows)
  )


# --- Performance --------------------------------------------------------------------------------


def _suite(group: str) -> tuple[dict, dict[str, list[dict]]]:
  """benchmarks.cpu_suite's file and its `group` entries by label, in the order they ran."""
  data = _json("performance", "cpu_suite.json")
  by = {}
  for entry in data["entries"]:
    if entry["group"] == group:
      by.setdefault(entry["label"], []).append(entry)
  return data, by


def _span(values, fmt: str = "{:.3f}") -> str:
  low, high = min(values), max(values)
  return (
    fmt.format(low)
    if fmt.format(low) == fmt.format(high)
    else f"{fmt.format(low)}-{fmt.format(high)}"
  )


def _machine(data: dict) -> str:
  m = data["machine"]
  return (
    f"Measured {m['date']} on {m['cpu_count']} CPUs ({m['platform']}), {data['rounds']} "
    f"interleaved rounds: `{data['command']}`."
  )


def cpu_settings() -> str:
  """benchmarks.bench per config and CPU setting: per-round step times and their median."""
  data, by = _suite("settings")
  rows = []
  for label, entries in by.items():
    r = [e["result"] for e in entries]
    seconds = [x["seconds_per_step"] for x in r]
    rows.append(
      [label, ", ".join(f"{s:.3f}" for s in seconds), f"{float(np.median(seconds)):.3f}",
       _span([x["examples_per_sec"] for x in r], "{:,.0f}"),
       f"{float(np.median([x['compile_seconds'] for x in r])):.1f}",
       _span([x["host_fraction"] for x in r if "host_fraction" in x] or [0], "{:.2f}"),
       f"`{entries[0]['command']}`"]
    )  # fmt: skip
  header = ["setting", "s/step per round", "median s/step", "examples/s", "compile s",
            "host fraction", "command"]  # fmt: skip
  return _machine(data) + "\n\n" + _table(header, rows)


def _seconds(entry: dict) -> float | None:
  return None if "skipped" in entry else entry["result"]["seconds_per_step"]


def peers() -> str:
  """The paper network's DANN step at 128 + 128 in tljax and its peers, round by round."""
  data, by = _suite("peers")
  rounds = data["rounds"]
  base = [_seconds(e) for e in by["tljax, fast"]]
  rows = []
  for label, entries in by.items():
    seconds = [_seconds(e) for e in entries]
    if None in seconds:
      rows.append([label, *["–"] * rounds, "–", entries[0]["skipped"]])
      continue
    ratio = [s / b for s, b in zip(seconds, base)]
    rows.append(
      [label, *[f"{s:.3f}" for s in seconds], _span(ratio, "{:.2f}"), f"`{entries[0]['command']}`"]
    )
  header = ["step at 128 + 128", *[f"round {i + 1} s/step" for i in range(rounds)],
            "× tljax fast's step, same round", "command"]  # fmt: skip
  fastest = sum(
    1
    for i in range(rounds)
    if all(_seconds(es[i]) is None or _seconds(es[i]) >= base[i] for es in by.values())
  )
  return (
    _machine(data)
    + "\n\n"
    + _table(header, rows)
    + f"\n\ntljax's default step was the fastest of these in {fastest} of {rounds} rounds."
  )


def step_flops() -> str:
  """The peers' step at 128 + 128 as a rate: XLA's FLOP count of the plain (`xla`) step over
  each step time, and its share of the dense matmul's rate measured in the same round."""
  data, by = _suite("peers")
  plain = [e["result"].get("step_flops") for e in by["tljax, xla"]]
  if None in plain:
    return "Not measured in the committed file (its benchmark predates the FLOP count)."
  flops = plain[0]
  matmul = [e["result"]["matmul_gflops"] for e in _suite("conv")[1]["conv pieces"]]
  rows = []
  for label, entries in by.items():
    seconds = [_seconds(e) for e in entries]
    if None in seconds:
      continue
    rates = [flops / s / 1e9 for s in seconds]
    share = [r / m for r, m in zip(rates, matmul)]
    rows.append([label, ", ".join(f"{r:.0f}" for r in rates), _span(share, "{:.0%}")])
  return (
    f"One DANN step at 128 + 128 images: {flops / 1e9:.2f} GFLOP (XLA's count of the `xla` "
    "step as written, before XLA's rewrites; every row trains the same network on the same "
    "batch, so this is each row's work).\n\n"
    + _table(["step", "GFLOP/s per round", "share of the matmul's GFLOP/s, same round"], rows)
  )


CONV_PIECES = {
  "backbone_forward": "backbone forward",
  "backbone_gradient": "backbone gradient (forward + backward)",
  "conv1_pool_forward": "first conv + pool, forward",
  "conv1_pool_kernel_grad": "first conv + pool, kernel gradient (with its forward)",
  "conv2_forward": "second conv, forward",
  "conv2_kernel_grad": "second conv, kernel gradient",
  "conv2_input_grad": "second conv, input gradient",
}


def conv_pieces() -> str:
  """benchmarks.bench_conv: each piece's ms and useful GFLOP/s, lowest-highest over the rounds."""
  data, by = _suite("conv")
  r = [e["result"] for e in by["conv pieces"]]
  rows = [
    [words, *[_span([x[f"{piece}_{unit}_{impl}"] for x in r], "{:.1f}")
              for impl in ("xla", "fast") for unit in ("ms", "gflops")]]
    for piece, words in CONV_PIECES.items()
  ]  # fmt: skip
  header = [f"piece ({r[0]['batch']} images)", "`xla` ms", "`xla` GFLOP/s", "`fast` ms",
            "`fast` GFLOP/s"]  # fmt: skip
  matmul = (
    f"A {r[0]['matmul_size']} × {r[0]['matmul_size']} float32 matmul in the same runs: "
    f"{_span([x['matmul_gflops'] for x in r], '{:.0f}')} GFLOP/s "
    f"({_span([x['matmul_ms'] for x in r], '{:.0f}')} ms)."
  )
  return _machine(data) + "\n\n" + _table(header, rows) + "\n\n" + matmul


def speech_default_time() -> str:
  """The default speech command timed end to end (default_run_time.json)."""
  data = _json("speech", "default_run_time.json")
  return (
    f"`{data['command']}` took **{data['process_wall_seconds']:.0f} s** end to end on "
    f"{data['cpu_count']} idle CPU cores, the datasets already prepared "
    f"({data['user_seconds']:.0f} s user, {data['system_seconds']:.0f} s system CPU; the run's "
    "own `wall_seconds` "
    f"{data['results_json_wall_seconds']:.0f} s), commit `{data['commit']}`: DANN seed 0's run "
    f"in the table above, target test accuracy {data['target_test_accuracy']:.3f}."
  )


BLOCKS = {
  "digits-methods": lambda: method_benchmark("digits_to_digits_m"),
  "digits-verdicts": lambda: method_verdicts("digits_to_digits_m"),
  "mnist-methods": lambda: method_benchmark("mnist_to_mnist_m"),
  "mnist-verdicts": lambda: method_verdicts("mnist_to_mnist_m"),
  "mnist-validators": lambda: validator_picks("mnist_to_mnist_m"),
  "digits-validators": lambda: validator_picks("digits_to_digits_m"),
  "methods-summary": methods_summary,
  **{
    f"speech-{kind}-{pair.split('_to_')[1]}": (lambda f=f, pair=pair: f(pair, "speech"))
    for pair in SPEECH_PAIRS
    for kind, f in (
      ("methods", method_benchmark),
      ("verdicts", method_verdicts),
      ("validators", validator_picks),
    )
  },  # fmt: skip
  "speech-pads": speech_pads,
  "speech-default-time": speech_default_time,
  "label-sets-summary": label_sets_summary,
  "label-sets-published": published_label_sets,
  "domainbed-published-rotated": lambda: published_domainbed("RotatedMNIST"),
  "domainbed-published-colored": lambda: published_domainbed("ColoredMNIST"),
  "domainbed-colored": lambda: domainbed_runs("colored"),
  "published-shot": published_shot,
  "tta-source": tta_source,
  "tta-corruptions": tta_corruptions,
  "tta-source-mnist-m": tta_source_mnist_m,
  "tta-mnist-m-corruptions": lambda: tta_corruptions("mnist_m_c5"),
  "tta-learning-rates": tta_learning_rates,
  "tta-long": tta_long,
  "tta-long-mnist-m": lambda: tta_long("mnist_m_c5_long"),
  "seeds-speedup": seeds_speedup,
  "step-flops": step_flops,
  **{
    f"label-sets-{s}{suffix}": (lambda s=s, pair=pair: _not_yet(lambda: label_set_table(s, pair)))
    for s in ("partial", "openset", "universal")
    for suffix, pair in (("", "digits_to_digits_m"), ("-mnist", "mnist_to_mnist_m"))
  },
  **{
    f"label-sets-{s}{suffix}-verdicts": (
      lambda s=s, pair=pair: _not_yet(lambda: label_set_verdicts(s, pair))
    )
    for s in ("partial", "openset", "universal")
    for suffix, pair in (("", "digits_to_digits_m"), ("-mnist", "mnist_to_mnist_m"))
  },
  "speech-build": speech_build,
  "main-command": main_command,
  "main-command-log": main_command_log,
  "text-pairs": text_pairs,
  "text-summary": text_summary,
  "text-validators": text_validators,
  "text-more-methods": text_more_methods,
  "text-timing": text_timing,
  "paper-recipe": paper_recipe,
  "tradeoff-validators": tradeoff_validators,
  "reverse-scores": reverse_scores,
  "mnist-pad": pad_table,
  "instance-weighting": instance_weighting,
  "finetune-modes": lambda: finetune_table("modes_mnist_mnistm"),
  "finetune-modes-verdicts": lambda: finetune_verdicts("modes_mnist_mnistm"),
  "finetune-delta005": lambda: finetune_table("delta005_mnist_mnistm"),
  "finetune-parity": lambda: finetune_table("parity_mnist_mnistm"),
  "finetune-parity-verdicts": lambda: finetune_verdicts("parity_mnist_mnistm"),
  "finetune-digits": lambda: finetune_table("digits"),
  "finetune-mnist": lambda: finetune_table("mnist_mnistm"),
  "finetune-mnist-verdicts": lambda: finetune_verdicts("mnist_mnistm"),
  "distillation": distillation,
  "ranking": ranking,
  "other-kinds": other_kinds,
  "source-free-digits": lambda: _not_yet(source_free_table),
  "source-free-digits-readme": lambda: _not_yet(
    lambda: source_free_table(links="tljax/methods"), SOURCE_FREE_ANCHOR
  ),
  "source-free-digits-selection": lambda: _not_yet(source_free_selection),
  **{
    f"source-free-summary-{name}": (lambda pair=pair: source_free_table(pair, SUMMARY_LINKS))
    for name, pair in (("digits", "digits_to_digits_m"), ("mnist", "mnist_to_mnist_m"))
  },
  **{
    f"source-free-summary-{name}-selection": (lambda pair=pair: source_free_selection(pair))
    for name, pair in (("digits", "digits_to_digits_m"), ("mnist", "mnist_to_mnist_m"))
  },
  "source-free-mnist": lambda: _not_yet(
    lambda: source_free_table("mnist_to_mnist_m", beside=("dann",))
  ),
  "source-free-mnist-selection": lambda: _not_yet(
    lambda: source_free_selection("mnist_to_mnist_m")
  ),
  "published": published,
  "digits-counts": digits_counts,
  "sentiment-counts": sentiment_counts,
  "folder-vs-tfds": folder_vs_tfds,
  "streaming": streaming,
  "reliability-cases": reliability_cases,
  "cpu-settings": cpu_settings,
  "peers": peers,
  "conv-pieces": conv_pieces,
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

"""Text: the sentiment genres as domains."""

import numpy as np

from tljax.analysis import tables
from tools.docs_tables.common import (
  accuracies,
  find_runs,
  load_json,
  markdown_table,
  mean_std,
  signed_points,
)

GENRES = ("tweets", "movies", "products", "editorials")


def _sentiment() -> dict[tuple[str, str], dict[str, dict[int, dict]]]:
  """{(source genre, target genre): {method: {seed: results}}} of every committed text run."""
  out = {}
  for run in find_runs("sentiment"):
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
    for r in load_json("sentiment", "logreg_baseline.json")["runs"]
  }
  rows = []
  for pair in _pairs():
    by = runs[pair]
    so, dann, oracle = by["source_only"], by["dann"], by["target_only"]
    seeds = sorted(set(so) & set(dann))
    better = sum(dann[s]["target_test_accuracy"] > so[s]["target_test_accuracy"] for s in seeds)
    worse = sum(dann[s]["target_test_accuracy"] < so[s]["target_test_accuracy"] for s in seeds)
    gain = accuracies(dann).mean() - accuracies(so).mean()
    verdict = (
      f"helps ({better}/{len(seeds)} seeds better)" if better == len(seeds)
      else f"**hurts: negative transfer** ({worse}/{len(seeds)} seeds worse)" if worse == len(seeds)
      else "mixed"
    )  # fmt: skip
    rows.append([
      f"{pair[0]} → {pair[1]}", mean_std([r["proxy_a_distance"]["inputs"] for r in so.values()]),
      mean_std(accuracies(so)),
      f"{logreg[pair]:.3f}", mean_std(accuracies(dann)), mean_std(accuracies(oracle)),
      signed_points(gain), verdict,
    ])  # fmt: skip
  header = [
    "pair", "PAD (inputs; mean ± std over the seeds' PAD splits)", "source only",
    "logistic regression (sklearn, source-trained)", "DANN", "target only (oracle)",
    "DANN − source only (points)", "verdict",
  ]  # fmt: skip
  return markdown_table(header, rows)


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
      means[m].append(accuracies(by[m]).mean())
  logreg = np.mean(
    [r["target_test_accuracy"] for r in load_json("sentiment", "logreg_baseline.json")["runs"]]
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
  found = [r for r in find_runs("sentiment") if r.results["method"] in ("source_only", "dann")]
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
  return markdown_table(header, rows)


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
      row.append(f"{acc:.3f} ({signed_points(acc - so)})")
    rows.append(row)
  return markdown_table(["pair", "source only", "DANN", *methods], rows)


def text_timing() -> str:
  """The time of the 108 runs of the text table, from their results.json."""
  walls = [
    r.results["wall_seconds"]
    for r in find_runs("sentiment")
    if r.results["method"] in ("source_only", "dann", "target_only")
  ]
  return (
    f"The {len(walls)} runs of the table took {sum(walls):,.0f} s of this machine's 2 cores in "
    f"all (`wall_seconds` in their results.json): {np.mean(walls):.1f} s per run on average, "
    f"{max(walls):.1f} s at most."
  )

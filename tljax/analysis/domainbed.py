"""DomainBed's model selection and results table over a sweep of finished runs.

A sweep (`experiments.domainbed`) trains, for each test environment, method,
hyperparameter trial and seed, one run whose target is the test environment
and whose sources are the others. Selection picks one trial per (method,
test environment, seed), by a rule that reads:

- "training-domain validation": the held-out examples of the training
  (source) environments, an equal share of each (`data.source_val_size`):
  the lowest error (`validators.source_risk`) wins. No target label is read.
- "test-domain validation (oracle)": labelled examples of the test
  environment (`data.target_val_size`): the highest accuracy wins. It reads
  target labels: DomainBed reports it apart, as an upper bound, and so does
  every table here; it is never mixed into the other rules' picks.
- "leave-one-domain-out validation" (`lodo_picks`): for every training
  environment j, a further run of the same trial trains without j (and
  without the test environment) and is scored on j; the trial with the best
  mean over j wins, and the table shows its run trained on all the training
  environments. No target label is read.

Every run is scored at its final checkpoint (DomainBed's training-domain
rule also picks among a run's checkpoints).
"""

import collections

import numpy as np

from tljax.analysis.runs import Run
from tljax.analysis.tables import markdown, std

RULES = {
  "training-domain validation": (
    lambda r: -r.results["validators"]["source_risk"],
    "held-out source examples, equal shares of each training environment",
  ),
  "test-domain validation (oracle)": (
    lambda r: r.results["target_val_accuracy"],
    "labelled test-environment examples: reads target labels, an upper bound",
  ),
}


def algorithm(results: dict) -> str:
  """The method's name, and its weight averaging where the run evaluated the mean of its weights
  (`train.average_from`): two algorithms in DomainBed's sense."""
  start = results.get("config", {}).get("train", {}).get("average_from", -1)
  return results["method"] if start < 0 else f"{results['method']} + weight mean from step {start}"


def picks(runs: list[Run], rule: str) -> dict[tuple, Run]:
  """{(method, test environment, seed): the run (trial) `rule` picks}; ties: the first path.

  Runs on a single source (`single_source_table`'s baselines) are left out.
  """
  score, _ = RULES[rule]
  groups = collections.defaultdict(list)
  for run in runs:
    if "," not in run.results["source"] or _segment(run, "val") is not None:
      continue
    r = run.results
    groups[(algorithm(r), r["target"], r["seed"])].append(run)
  chosen = {}
  for key, candidates in groups.items():
    scored = [(c, score(c)) for c in sorted(candidates, key=lambda c: c.path) if _has(c, score)]
    if scored:
      chosen[key] = max(scored, key=lambda cs: cs[1])[0]
  return chosen


def _segment(run: Run, key: str) -> str | None:
  """The value of `key=value` in the run's directory path (the driver's layout), or None."""
  for part in run.path.split("/"):
    if part.startswith(f"{key}="):
      return part[len(key) + 1 :]
  return None


def lodo_picks(runs: list[Run]) -> dict[tuple, Run]:
  """{(method, test environment, seed): the trial's full run} picked by leave-one-domain-out
  validation: each trial's held-out-domain runs (directories `.../trial=<k>/val=<j>/...`),
  scored on their target, environment j, averaged; a trial missing one is no candidate."""

  def trial(run: Run) -> tuple:
    return (
      _segment(run, "test"),
      algorithm(run.results),
      _segment(run, "trial"),
      run.results["seed"],
    )

  held = collections.defaultdict(list)
  for run in runs:
    if _segment(run, "val") is not None:
      held[trial(run)].append(run.results["target_test_accuracy"])
  groups = collections.defaultdict(list)
  for run in sorted(runs, key=lambda r: r.path):  # Ties: the first path.
    r = run.results
    if "," in r["source"] and _segment(run, "val") is None:
      if len(held[trial(run)]) == len(r["source"].split(",")):  # Every training domain held out.
        groups[(algorithm(r), r["target"], r["seed"])].append((np.mean(held[trial(run)]), run))
  return {key: max(c, key=lambda c: c[0])[1] for key, c in groups.items()}


def _has(run: Run, score) -> bool:
  try:
    return score(run) is not None
  except (KeyError, TypeError):
    return False


def _cell(accs: list[float]) -> str:
  """Mean ± sample std (count); one seed has no spread to show, none at all "–"."""
  if not accs:
    return "–"
  if len(accs) == 1:
    return f"{accs[0]:.1f} (1)"
  return f"{np.mean(accs):.1f} ± {std(accs):.1f} ({len(accs)})"


def columns(environments: list[str]) -> list[str]:
  """Column names: each environment's config (`0` of `rotated_mnist/0`) when they are configs
  of one dataset, else the whole name (`mnist`, `mnist_m/offline`)."""
  if len({e.split("/")[0] for e in environments}) == 1:
    return [e.split("/")[-1] for e in environments]
  return list(environments)


def table(chosen: dict[tuple, Run], environments: list[str]) -> str:
  """DomainBed's layout: a row per method, a column per test environment and the average;
  cells: target test accuracy (%) of the picks, mean ± sample std over seeds (one seed: the
  accuracy alone)."""
  methods = sorted({m for m, _, _ in chosen})
  header = ["method", *columns(environments), "average"]
  rows = []
  for method in methods:
    cells, means = [], []
    for env in environments:
      accs = [100 * r.results["target_test_accuracy"] for (m, e, _), r in chosen.items()
              if m == method and e == env]  # fmt: skip
      cells.append(_cell(accs))
      means.append(np.mean(accs) if accs else None)
    complete = all(m is not None for m in means)
    rows.append([f"`{method}`", *cells, f"{np.mean(means):.1f}" if complete else "–"])
  return markdown(header, rows)


def single_source_table(runs: list[Run], environments: list[str]) -> str:
  """The single-source baselines of multi-source adaptation: per target (column), each source
  alone (`source_only` runs whose source is one domain), mean target test accuracy (%) over
  seeds, and the best of them, a choice made on target test accuracy (an upper bound)."""
  by = collections.defaultdict(list)
  for run in runs:
    r = run.results
    if "," not in r["source"]:
      by[(r["source"], r["target"])].append(100 * r["target_test_accuracy"])
  sources = sorted({s for s, _ in by}, key=environments.index)
  header = ["source alone", *columns(environments)]
  rows = []
  for source in sources:
    cells = [f"{np.mean(by[(source, e)]):.1f} ({len(by[(source, e)])})" if by[(source, e)]
             else "–" for e in environments]  # fmt: skip
    rows.append([f"`{source}`", *cells])
  best = []
  for env in environments:
    means = [np.mean(by[(s, env)]) for s in sources if by[(s, env)]]
    best.append(f"{max(means):.1f}" if means else "–")
  rows.append(["best single source (picked on target test)", *best])
  return markdown(header, rows)

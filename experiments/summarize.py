"""Tabulates results.json files: mean ± std over seeds per setting.

    python -m experiments.summarize runs/digits_to_digits_m [runs/paper ...] \\
        [--by method.name,method.dann.trade_off]

Searches each given directory recursively for results.json and prints one
markdown row per (directory, source, target, setting), where the setting is
the config fields named by --by (default: the method), with every seed's
target accuracy. Runs under different directories are never pooled, so keep
one directory per recipe.
"""

import argparse
import glob
import os
import sys

import numpy as np

from experiments import finished_run
from tljax import files

ORDER = {"source_only": 0, "dann": 1, "target_only": 2}
COLUMNS = [
  "target test acc (mean ± sample std)",
  "source test acc",
  "seeds",
  "per-seed target acc",
  "steps",
  "wall s (mean)",
]


def load_results(roots: list[str]) -> list[tuple[str, dict]]:
  """(root, results) for every finished run's results.json below each root."""
  found = []
  for root in roots:
    for path in sorted(glob.glob(os.path.join(root, "**", "results.json"), recursive=True)):
      results = files.read_json(path)  # A damaged file is named and skipped.
      if results is not None and results.get("status") == "finished":
        results["config"] = finished_run.migrate(results.get("config", {}))
        found.append((root, results))
  return found


def finished(workdir: str) -> bool:
  path = os.path.join(workdir, "results.json")
  if not os.path.exists(path):
    return False
  results = files.read_json(path)
  return results is not None and results.get("status") == "finished"


def _field(results: dict, dotted: str):
  value = results["config"]
  for part in dotted.split("."):
    value = value[part]
  return value


def _std(values: np.ndarray) -> float:
  return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def _sort_key(value):
  return (ORDER.get(value, 9), str(value))


def table(results: list[tuple[str, dict]], group_by: list[str] = ("method.name",)) -> str:
  """One markdown row per (root, source, target, values of `group_by`)."""
  groups = {}
  for root, r in results:
    setting = tuple(_field(r, key) for key in group_by)
    groups.setdefault((root, r["source"], r["target"], setting), []).append(r)
  header = ["runs", "source → target", *group_by, *COLUMNS]
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  for (root, source, target, setting), runs in sorted(
    groups.items(), key=lambda kv: (kv[0][:3], [_sort_key(v) for v in kv[0][3]])
  ):
    runs = sorted(runs, key=lambda r: r["seed"])
    tgt = np.array([r["target_test_accuracy"] for r in runs])
    src = np.array([r["source_test_accuracy"] for r in runs])
    lines.append(
      f"| {root} | {source} → {target} | {' | '.join(map(str, setting))} | "
      f"{tgt.mean():.3f} ± {_std(tgt):.3f} | {src.mean():.3f} | {len(runs)} | "
      f"{', '.join(f'{a:.3f}' for a in tgt)} | {runs[0]['steps']} | "
      f"{np.mean([r['wall_seconds'] for r in runs]):.0f} |"
    )
  return "\n".join(lines)


def validator_table(results: list[tuple[str, dict]], group_by: list[str]) -> str:
  """Per validator: the setting it picks for each seed, and that setting's accuracy.

  For every seed, each label-free validator compares the final checkpoints of
  the settings (values of `group_by`; runs that train on target labels are
  not candidates) by its own score; the row gives the
  mean ± std over seeds of the target test accuracy of what it picked. The
  `oracle` row picks by target test accuracy itself: an upper bound.
  """
  from tljax.analysis import validators  # pylint: disable=g-import-not-at-top
  from tljax.methods import base  # pylint: disable=g-import-not-at-top

  def reads_target_labels(r) -> bool:  # The oracle: not a choice a user without labels has.
    method = base.create(finished_run.stored_config(r["config"]), num_classes=2)
    return base.TARGET_LABELLED in method.streams

  by_seed = {}
  for _, r in results:
    if r.get("validators") and not reads_target_labels(r):
      setting = tuple(_field(r, key) for key in group_by)
      by_seed.setdefault(r["seed"], []).append((setting, r))
  if not by_seed:
    return "(no runs with validator scores: set config.data.source_val_size > 0)"
  names = list(validators.HIGHER_IS_BETTER) + ["oracle"]
  header = ["validator", "picked setting per seed", "target test acc (mean ± sample std)"]
  lines = ["| " + " | ".join(header) + " |", "|---|---|---|"]
  for name in names:
    picked, accs = [], []
    if name != "oracle" and not all(
      name in r["validators"] for rs in by_seed.values() for _, r in rs
    ):
      continue  # Scored on some runs only (e.g. reverse_dann without train.reverse_dann_steps).
    for seed in sorted(by_seed):
      runs = by_seed[seed]
      if name == "oracle":
        setting, r = max(runs, key=lambda sr: sr[1]["target_test_accuracy"])
      else:
        sign = 1 if validators.HIGHER_IS_BETTER[name] else -1
        setting, r = max(runs, key=lambda sr: sign * sr[1]["validators"][name])
      picked.append(f"seed {seed}: {', '.join(map(str, setting))}")
      accs.append(r["target_test_accuracy"])
    accs = np.array(accs)
    lines.append(f"| {name} | {'; '.join(picked)} | {accs.mean():.3f} ± {_std(accs):.3f} |")
  return "\n".join(lines)


def main(argv: list[str]) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("roots", nargs="*", default=["runs"])
  parser.add_argument("--by", default="method.name", help="comma-separated config fields")
  args = parser.parse_args(argv[1:])
  results = load_results(args.roots)
  if not results:
    sys.exit(f"error: no finished results.json under {args.roots}")
  print(table(results, args.by.split(",")))
  if any(r.get("validators") for _, r in results):
    print()
    print(validator_table(results, args.by.split(",")))


if __name__ == "__main__":
  main(sys.argv)

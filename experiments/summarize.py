"""Tabulates results.json files: mean ± std over seeds per method.

    python -m experiments.summarize runs/digits_to_digits_m [runs/paper ...]

Searches each given directory recursively for results.json and prints one
markdown row per (directory, source, target, method), with every seed's
target accuracy. Runs under different directories are never pooled, so keep
one directory per recipe.
"""

import glob
import json
import os
import sys

import numpy as np

ORDER = {"source_only": 0, "dann": 1, "target_only": 2}
HEADER = [
  "runs",
  "source → target",
  "method",
  "target test acc (mean ± sample std)",
  "source test acc",
  "seeds",
  "per-seed target acc",
  "steps",
  "wall s (mean)",
]


def load_results(roots: list[str]) -> list[tuple[str, dict]]:
  """(root, results) for every results.json below each root."""
  found = []
  for root in roots:
    for path in sorted(glob.glob(os.path.join(root, "**", "results.json"), recursive=True)):
      with open(path) as f:
        found.append((root, json.load(f)))
  return found


def _std(values: np.ndarray) -> float:
  return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def table(results: list[tuple[str, dict]]) -> str:
  groups = {}
  for root, r in results:
    groups.setdefault((root, r["source"], r["target"], r["method"]), []).append(r)
  lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
  for (root, source, target, method), runs in sorted(
    groups.items(), key=lambda kv: (kv[0][:3], ORDER.get(kv[0][3], 9))
  ):
    runs = sorted(runs, key=lambda r: r["seed"])
    tgt = np.array([r["target_test_accuracy"] for r in runs])
    src = np.array([r["source_test_accuracy"] for r in runs])
    lines.append(
      f"| {root} | {source} → {target} | {method} | {tgt.mean():.3f} ± {_std(tgt):.3f} | "
      f"{src.mean():.3f} | {len(runs)} | {', '.join(f'{a:.3f}' for a in tgt)} | "
      f"{runs[0]['steps']} | {np.mean([r['wall_seconds'] for r in runs]):.0f} |"
    )
  return "\n".join(lines)


def main(argv: list[str]) -> None:
  roots = argv[1:] or ["runs"]
  results = load_results(roots)
  if not results:
    sys.exit(f"error: no results.json under {roots}")
  print(table(results))


if __name__ == "__main__":
  main(sys.argv)

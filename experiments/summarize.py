"""Tabulates results.json files: mean ± std over seeds per method.

    python -m experiments.summarize runs/digits_to_digits_m

Searches the given directories recursively for results.json and prints one
markdown row per (source, target, method) with every seed's accuracy.
"""

import glob
import json
import os
import sys

import numpy as np

ORDER = {"source_only": 0, "dann": 1, "target_only": 2}


def load_results(roots: list[str]) -> list[dict]:
  paths = sorted(
    p for root in roots for p in glob.glob(os.path.join(root, "**", "results.json"), recursive=True)
  )
  return [json.load(open(p)) for p in paths]


def table(results: list[dict]) -> str:
  groups = {}
  for r in results:
    groups.setdefault((r["source"], r["target"], r["method"]), []).append(r)
  header = [
    "source → target",
    "method",
    "target test acc (mean ± std)",
    "source test acc",
    "seeds",
    "per-seed target acc",
    "steps",
    "wall s (mean)",
  ]
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  for (source, target, method), runs in sorted(
    groups.items(), key=lambda kv: (kv[0][:2], ORDER.get(kv[0][2], 9))
  ):
    tgt = np.array([r["target_test_accuracy"] for r in runs])
    src = np.array([r["source_test_accuracy"] for r in runs])
    lines.append(
      f"| {source} → {target} | {method} | {tgt.mean():.3f} ± {tgt.std():.3f} | "
      f"{src.mean():.3f} | {len(runs)} | {', '.join(f'{a:.3f}' for a in tgt)} | "
      f"{runs[0]['steps']} | {np.mean([r['wall_seconds'] for r in runs]):.0f} |"
    )
  return "\n".join(lines)


def main(argv: list[str]) -> None:
  results = load_results(argv[1:] or ["runs"])
  if not results:
    sys.exit(f"error: no results.json under {argv[1:] or ['runs']}")
  print(table(results))


if __name__ == "__main__":
  main(sys.argv)

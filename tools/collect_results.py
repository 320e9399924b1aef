"""Copies what docs/results/ keeps of finished runs: each results.json (and summary.md,
report.md, ranking.json/md), with the tree of run directories, nothing else (no checkpoints).

    python -m tools.collect_results runs/methods/digits_to_digits_m \\
        docs/results/methods/digits_to_digits_m
"""

import os
import shutil
import sys

KEPT = ("results.json", "summary.md", "report.md", "ranking.json", "ranking.md")


def collect(source: str, destination: str) -> int:
  """Copies the kept files below `source` to the same places below `destination`; their count."""
  copied = 0
  for directory, subdirs, names in os.walk(source):
    subdirs[:] = sorted(d for d in subdirs if d not in ("checkpoints", "checkpoints_unreadable"))
    for name in sorted(set(names) & set(KEPT)):
      target = os.path.join(destination, os.path.relpath(directory, source), name)
      os.makedirs(os.path.dirname(target), exist_ok=True)
      shutil.copyfile(os.path.join(directory, name), target)
      copied += 1
  return copied


if __name__ == "__main__":
  if len(sys.argv) != 3:
    sys.exit(__doc__)
  print(f"copied {collect(sys.argv[1], sys.argv[2])} files to {sys.argv[2]}")

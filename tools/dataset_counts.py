"""Counts the examples and labels of the embedded and offline datasets, for docs/data.md.

    python -m tools.dataset_counts --sentiment_dir ../shared/data/sentiment \\
        --out docs/results/data/counts.json

Prepares each TFDS dataset (offline: the digits pair needs nothing, the
sentiment genres read the archive in `--sentiment_dir`) and writes, per
dataset and split, the number of examples and of each label.
"""

import argparse
import json

import numpy as np

from tljax.data import pipeline

DATASETS = ["digits", "digits_m"] + [
  f"sentiment/{genre}" for genre in ("tweets", "movies", "products", "editorials")
]


def counts(name: str, manual_dir: str | None, data_dir: str | None) -> dict:
  """{split: {"examples": N, "labels": {label: count}}} for `name`'s train and test splits."""
  out = {}
  for split in ("train", "test"):
    labels = pipeline.load_split(name, split, data_dir=data_dir, manual_dir=manual_dir)["label"]
    values, number = np.unique(labels, return_counts=True)
    out[split] = {
      "examples": int(len(labels)),
      "labels": {int(v): int(n) for v, n in zip(values, number)},
    }
  return out


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--sentiment_dir", required=True, help="directory with the sentiment archive")
  parser.add_argument("--data_dir", default=None, help="TFDS data_dir (default: TFDS's)")
  parser.add_argument("--out", required=True)
  args = parser.parse_args()
  result = {
    name: counts(name, args.sentiment_dir if name.startswith("sentiment") else None, args.data_dir)
    for name in DATASETS
  }
  result["command"] = (
    f"python -m tools.dataset_counts --sentiment_dir {args.sentiment_dir} --out {args.out}"
  )
  with open(args.out, "w") as f:
    json.dump(result, f, indent=1)
  print(json.dumps(result, indent=1))


if __name__ == "__main__":
  main()

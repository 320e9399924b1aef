"""Prepares TFDS datasets once and times each build: what a first run does before training.

    python -m tools.prepare_datasets --data_dir /tmp/fresh_tfds \\
        --out docs/results/speech/build.json \\
        spoken_digits/us_clean spoken_digits/accents_clean spoken_digits/accents_noisy

Writes, per dataset, the wall seconds of `download_and_prepare` and the
examples of each split, with the machine's CPU count and the command. Use a
fresh `--data_dir`: a prepared dataset is reused and its time is then near 0.
"""

import argparse
import json
import os
import sys
import time

from tljax.data import pipeline


def main(argv: list[str]) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("names", nargs="+", help="TFDS dataset names tljax knows")
  parser.add_argument("--data_dir", required=True, help="where TFDS prepares them")
  parser.add_argument("--manual_dir", default=None)
  parser.add_argument("--out", required=True, help="the JSON file to write")
  args = parser.parse_args(argv[1:])
  builds = {}
  for name in args.names:
    start = time.perf_counter()
    sizes = {
      split: len(
        pipeline.load_split(name, split, data_dir=args.data_dir, manual_dir=args.manual_dir)[
          "label"
        ]
      )
      for split in ("train", "test")
    }
    seconds = round(time.perf_counter() - start, 1)
    builds[name] = {"seconds": seconds, "examples": sizes}
    print(f"{name}: {seconds} s, {sizes}", flush=True)
  result = {
    "cpu_count": os.cpu_count(),
    "command": " ".join(["python -m tools.prepare_datasets", *argv[1:]]),
    "builds": builds,
  }
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump(result, f, indent=1)


if __name__ == "__main__":
  main(sys.argv)

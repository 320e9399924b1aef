"""How long a run takes to read its data: through TFDS, and from the arrays kept after a first read.

    python -m benchmarks.bench_data_load --config configs/mnist_mnistm.py \\
        --config.data.manual_dir=../shared/data/mnist --rounds 3 \\
        --out docs/results/performance/data_load.json

Each round starts two fresh Python processes, one after the other, that read
the config's splits as a run does (`splits.load_domains`, from the
imports on): one with `TLJAX_KEEP_ARRAYS=0` (TensorFlow's import and tf.data's
decoding, `tljax/data/array_cache.py` off) and one that reads the kept
arrays (written by a first read before the rounds). Records each process's
wall and CPU seconds and whether it imported TensorFlow.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from benchmarks import timing

_READ = """
import json, sys, time
start = time.perf_counter()
from tljax.run import cli
cli.parse_flags(["read", *sys.argv[1:]])
from tljax.data import splits
data = splits.load_domains(cli.CONFIG.value.data)
print(json.dumps({"seconds": time.perf_counter() - start,
                  "examples": {k: len(v["label"]) for k, v in data.splits().items()},
                  "tensorflow_imported": "tensorflow" in sys.modules}))
"""


def _read(config_args: list[str], keep: bool) -> dict:
  """One fresh process's read of the config's splits: its report, wall and CPU seconds."""
  env = {**os.environ, "TLJAX_KEEP_ARRAYS": "1" if keep else "0"}
  before = resource.getrusage(resource.RUSAGE_CHILDREN)
  start = time.perf_counter()
  done = subprocess.run(
    [sys.executable, "-c", _READ, *config_args], env=env, capture_output=True, text=True
  )
  wall = time.perf_counter() - start
  after = resource.getrusage(resource.RUSAGE_CHILDREN)
  if done.returncode:
    raise SystemExit(f"the read failed (exit {done.returncode}): {done.stderr[-2000:]}")
  report = json.loads(done.stdout.strip().splitlines()[-1])
  cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
  return {**report, "process_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3)}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--out", default="runs/bench/data_load.json")
  args, config_args = parser.parse_known_args()
  if args.rounds < 1:
    raise SystemExit(f"--rounds={args.rounds} must be >= 1")
  _read(config_args, keep=True)  # Prepares the datasets and keeps their arrays.
  rounds = []
  for k in range(args.rounds):
    rounds.append({"round": k, "tfds": _read(config_args, False), "kept": _read(config_args, True)})
    print(json.dumps(rounds[-1]), flush=True)
  result = {
    "machine": timing.machine(),
    "command": "python -m benchmarks.bench_data_load " + " ".join(sys.argv[1:]),
    "rounds": rounds,
  }
  timing.write_file(result, args.out)


if __name__ == "__main__":
  main()

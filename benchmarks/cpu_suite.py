"""The CPU measurements docs/performance.md shows, in interleaved rounds; one JSON file.

    python -m benchmarks.cpu_suite --mnist_dir ../shared/data/mnist \\
        --out docs/results/performance/cpu_suite.json

Runs, as subprocesses and each `--rounds` times in alternation (so every
setting meets the machine's drift alike): `benchmarks.bench` on the digits
and MNIST configs with the CPU settings on and off (`settings`), the paper
network's DANN step at 128 + 128 in tljax and in the peer frameworks that are
installed (`peers`), and `benchmarks.bench_conv`'s convolution pieces
(`conv`). Each entry of the output keeps its group, label, round, the exact
command and environment, and the JSON the command wrote. A peer that is not
installed is recorded as skipped with the reason. Takes about half an hour on
a 2-core machine; run it on a quiet one.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

from benchmarks import timing

PAPER128 = ["--config", "configs/digits.py:paper", "--config.data.batch_size=128"]
XLA = ["--config.model.conv_impl=xla"]


def _bench(*args: str) -> list[str]:
  return ["-m", "benchmarks.bench", "--steps", "100", *args]


def plan(mnist_dir: str | None) -> dict[str, list[tuple[str, list[str], dict]]]:
  """{group: [(label, python args, extra env)]}, in the order each round runs them."""
  settings = [
    ("digits, fast", _bench("--config", "configs/digits.py"), {}),
    ("digits, xla", _bench("--config", "configs/digits.py", *XLA), {}),
    ("paper 128, fast", _bench(*PAPER128), {}),
    ("paper 128, fast, memory not kept", _bench(*PAPER128),
     {"MALLOC_MMAP_THRESHOLD_": "33554432"}),
    ("paper 128, xla", _bench(*PAPER128, *XLA), {}),
    ("paper 128, xla, CPU settings off", _bench(*PAPER128, *XLA, "--noxla_cpu_fast"), {}),
  ]  # fmt: skip
  if mnist_dir:
    mnist = ["--config", "configs/mnist_mnistm.py", f"--config.data.manual_dir={mnist_dir}"]
    settings += [("mnist, fast", _bench(*mnist), {}), ("mnist, xla", _bench(*mnist, *XLA), {})]
  peer = lambda f: ["-m", "benchmarks.bench_peers", "--framework", f, "--batch", "128"]  # noqa: E731
  peers = [
    ("tljax, fast", _bench(*PAPER128), {}),
    ("PyTorch", peer("torch"), {}),
    ("tljax, xla", _bench(*PAPER128, *XLA), {}),
    ("TensorFlow", peer("tensorflow"), {}),
    ("ADAPT", peer("adapt"), {}),
  ]
  conv = [("conv pieces", ["-m", "benchmarks.bench_conv", "--batch", "256"], {})]
  return {"settings": settings, "peers": peers, "conv": conv}


def _missing_peer(args: list[str]) -> str | None:
  """Why a peer benchmark cannot run here (its framework is not importable), else None."""
  if "benchmarks.bench_peers" not in args:
    return None
  module = {"torch": "torch", "tensorflow": "tensorflow", "adapt": "adapt"}[args[-3]]
  return None if importlib.util.find_spec(module) else f"{module} is not installed"


def run_one(args: list[str], env: dict, workdir: str) -> dict:
  """Runs `python args --workdir workdir` and returns the JSON it wrote there."""
  command = [sys.executable, *args, "--workdir", workdir]
  done = subprocess.run(
    command, env={**os.environ, **env}, capture_output=True, text=True, check=False
  )
  if done.returncode:
    raise RuntimeError(f"{' '.join(args)} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
  (name,) = [n for n in os.listdir(workdir) if n.endswith(".json")]
  with open(os.path.join(workdir, name)) as f:
    return json.load(f)


def main(argv: list[str]) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", required=True, help="the JSON file to write")
  parser.add_argument("--mnist_dir", default=None, help="MNIST IDX files (adds the MNIST rows)")
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--groups", default="settings,peers,conv", help="comma-separated subset")
  args = parser.parse_args(argv[1:])
  groups = {g: rows for g, rows in plan(args.mnist_dir).items() if g in args.groups.split(",")}
  entries = []
  with tempfile.TemporaryDirectory() as scratch:
    for round_ in range(args.rounds):
      for group, rows in groups.items():
        for label, python_args, env in rows:
          entry = {"group": group, "label": label, "round": round_, "env": env}
          entry["command"] = " ".join(
            [*(f"{k}={v}" for k, v in env.items()), "python", *python_args]
          )
          skipped = _missing_peer(python_args)
          if skipped:
            entries.append(entry | {"skipped": skipped})
            continue
          workdir = os.path.join(scratch, f"{len(entries)}")
          print(f"round {round_ + 1}/{args.rounds} {group}: {label}", flush=True)
          entries.append(entry | {"result": run_one(python_args, env, workdir)})
  result = {
    "machine": timing.machine(),
    "rounds": args.rounds,
    "command": " ".join(["python -m benchmarks.cpu_suite", *argv[1:]]),
    "entries": entries,
  }
  timing.write_file(result, args.out)


if __name__ == "__main__":
  main(sys.argv)

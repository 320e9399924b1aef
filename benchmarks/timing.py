"""What the benchmarks share: timing a call after warm-up, and writing the result.

Only the standard library (and `tljax.files`, which is too), so
`benchmarks.bench_peers` runs where neither JAX nor TensorFlow is installed.
"""

import datetime
import json
import os
import platform
import time

from tljax import files


def time_calls(call, warmup: int, steps: int) -> list[float]:
  """Seconds of each of `steps` calls of call(), after `warmup` untimed ones.

  call() must block until its work is done (e.g. end in `block_until_ready`).
  """
  for _ in range(warmup):
    call()
  times = []
  for _ in range(steps):
    start = time.perf_counter()
    call()
    times.append(time.perf_counter() - start)
  return times


def summary(seconds: list[float]) -> dict:
  """Median, mean and spread (10th/90th percentile, min, max) of per-call seconds.

  Percentiles by linear interpolation between the sorted values (numpy's
  default), written out here so the peers' scripts need no numpy.
  """
  ordered = sorted(seconds)

  def percentile(q: float) -> float:
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

  return {
    "median": round(percentile(0.5), 6),
    "mean": round(sum(ordered) / len(ordered), 6),
    "p10": round(percentile(0.1), 6),
    "p90": round(percentile(0.9), 6),
    "min": round(ordered[0], 6),
    "max": round(ordered[-1], 6),
    "count": len(ordered),
  }


def write_json(result: dict, workdir: str, name: str) -> None:
  """Writes `workdir/name` and prints the same JSON."""
  os.makedirs(workdir, exist_ok=True)
  files.write_json(os.path.join(workdir, name), result)
  print(json.dumps(result, indent=2))


VECTOR_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")


def cpu() -> dict:
  """The CPU's model name and its widest vector extensions (Linux's /proc/cpuinfo; else the
  platform's processor string and no extensions): oneDNN and XLA pick kernels by them, so a
  step's speed against a peer can turn over between two machines of the same core count."""
  try:
    with open("/proc/cpuinfo") as f:
      fields = [line.partition(":") for line in f]
  except OSError:
    fields = []
  first = {}
  for key, _, value in fields:
    first.setdefault(key.strip(), value.strip())
  present = set(first.get("flags", "").split())
  return {
    "cpu_model": first.get("model name") or platform.processor() or "unknown",
    "cpu_vector_flags": [f for f in VECTOR_FLAGS if f in present],
  }


def machine() -> dict:
  """The machine and the minute a measurement ran (the suites' files record it)."""
  return {
    **cpu(),
    "cpu_count": os.cpu_count(),
    "platform": platform.platform(),
    "python": platform.python_version(),
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
  }


def write_file(result: dict, path: str) -> None:
  """Writes a suite's result to `path` (its directory made) and says where."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  files.write_json(path, result)
  print(f"wrote {path}")

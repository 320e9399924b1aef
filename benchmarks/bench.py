"""Throughput of a config's train step and input pipeline; writes bench.json.

    python -m benchmarks.bench --config configs/digits.py --workdir /tmp/bench

With `--methods=all` (or a comma-separated list) it times every method's step
on the same config instead, in `--rounds` interleaved rounds (so each method
meets the machine's drift alike), and writes `bench_methods.json`: per method
the median seconds per step over rounds, and its cost relative to DANN's in
the same round.

`--pipeline_only` times just the input pipeline (bench_pipeline.json), e.g.
images streamed from a folder at 224 px with random resized crops.

The step is timed on synthetic in-memory batches of the config's shapes, so it
also runs where TensorFlow is absent (the pipeline timing is then skipped).
Reported: compile seconds (the first call: trace, compile, one step), the
median steady-state seconds per step (each ended with `block_until_ready`)
with its spread (`step_seconds`: mean, 10th and 90th percentiles, min, max),
steps/s and examples/s (source + target), the step's FLOPs as XLA counts
the program before its rewrites (`step_flops`), and, where the data loads, the
loop's seconds per step on real batches and `host_fraction`, the share of a
step's wall time outside the compiled step (host batching, transfer, dispatch).
"""

import os
import time

from absl import app, flags
import numpy as np

from benchmarks import timing
from tljax.run import cli

_STEPS = flags.DEFINE_integer("steps", 50, "Timed steps after warm-up.")
_WARMUP = flags.DEFINE_integer("warmup", 5, "Untimed steps after compiling.")
_METHODS = flags.DEFINE_string(
  "methods", None, "Comma-separated method names, or 'all': compare their train steps."
)
_ROUNDS = flags.DEFINE_integer("rounds", 3, "With --methods: interleaved timing rounds.")
_PIPELINE_ONLY = flags.DEFINE_bool(
  "pipeline_only", False, "Time only the input pipeline (e.g. images streamed from files)."
)
_PIPELINE_BATCHES = flags.DEFINE_integer(
  "pipeline_batches", 200, "Batches the pipeline is timed on."
)


def synthetic_batch(config, streams, rng: np.random.Generator) -> dict:
  """Random uint8 images (and labels: each of 10 classes in turn, shuffled; the target's row
  numbers) for each stream."""
  from tljax import core  # pylint: disable=g-import-not-at-top

  size, channels, bs = config.data.image_size, config.data.channels, config.data.batch_size
  batch = {}
  for name in streams:
    batch[name] = {"input": rng.integers(0, 256, (bs, size, size, channels), dtype=np.uint8)}
    if core.LABELLED[name]:
      batch[name]["label"] = rng.permutation(np.arange(bs) % 10)
    else:  # Each example's row in the (synthetic) target set, as splits.training_sets gives it.
      batch[name]["index"] = np.arange(bs, dtype=np.int32)
  return batch


class CompiledStep:
  """A config's train step, compiled on synthetic batches, ready to time."""

  def __init__(self, config):
    import jax  # pylint: disable=g-import-not-at-top

    from tljax.run import build  # pylint: disable=g-import-not-at-top

    size, channels = config.data.image_size, config.data.channels
    sets = synthetic_batch(
      config, ("source", "target", "target_labelled"), np.random.default_rng(1)
    )  # Prepared on (delta, co_tuning, kmm, kliep) as if they were the training sets.
    built = build.build(config, (size, size, channels), 10, sets)
    self.compiled, placement = built.train_step, built.placement
    self.placement = placement
    self.state = placement.put_state(built.state)
    self.streams = built.method.streams
    rows = synthetic_batch(config, self.streams, np.random.default_rng(0))
    self.batch = placement.put_batch(rows)
    self.rng = jax.random.key(0)
    start = time.perf_counter()  # The first call traces, compiles and runs once.
    self.step()
    self.compile_seconds = time.perf_counter() - start
    # XLA's count of the step's floating-point operations as the program is written (before
    # XLA's rewrites): for `model.conv_impl=xla` the plain network's work, the step's FLOPs.
    # Lowered after the timed first call, so that call still includes the tracing.
    lowered = self.compiled.lower(self.state, self.batch, self.rng)
    self.flops = float(lowered.cost_analysis()["flops"])

  def step(self) -> None:
    import jax  # pylint: disable=g-import-not-at-top

    self.state, self.metrics = self.compiled(self.state, self.batch, self.rng)
    jax.block_until_ready(self.state)

  def step_seconds(self, steps: int, warmup: int) -> list[float]:
    """Seconds of each of `steps` steps after `warmup` untimed ones."""
    return timing.time_calls(self.step, warmup, steps)

  def seconds_per_step(self, steps: int, warmup: int) -> float:
    """Median seconds of `steps` steps after `warmup` untimed ones."""
    return timing.summary(self.step_seconds(steps, warmup))["median"]


def time_train_step(config, steps: int, warmup: int, loop_steps: int = 0) -> dict:
  """The compiled step's per-step seconds (median and spread) on a fixed synthetic batch.

  With `loop_steps`, also the loop's seconds per step on the config's real data
  (host batching, transfer and dispatch, overlapping the asynchronous steps):
  `host_fraction` = 1 - compiled median / loop seconds per step, the share of
  a step's wall time spent outside the compiled step.
  """
  import jax  # pylint: disable=g-import-not-at-top

  timed = CompiledStep(config)
  stats = timing.summary(timed.step_seconds(steps, warmup))
  seconds = stats["median"]
  per_step = config.data.batch_size * len(timed.streams)
  out = {
    "compile_seconds": round(timed.compile_seconds, 3),
    "seconds_per_step": seconds,
    "step_seconds": stats,
    "train_steps_per_sec": round(1.0 / seconds, 2),
    "examples_per_sec": round(per_step / seconds, 1),
    "examples_per_step": per_step,
    "step_flops": timed.flops,
    "final_loss": float(np.mean(timed.metrics["loss"])),
    "parallel": config.parallel,
    "device_kind": jax.devices()[0].device_kind,
    "device_count": jax.device_count(),
    "backend": jax.default_backend(),
  }
  loop = time_loop(config, timed, loop_steps) if loop_steps else None
  if loop is not None:
    out["loop_seconds_per_step"] = round(loop, 6)
    out["host_fraction"] = round(max(0.0, 1.0 - seconds / loop), 4)
  return out


def _real_streams(config):
  """The config's training streams on its real data (None where TensorFlow is absent)."""
  try:
    from tljax.data import splits  # pylint: disable=g-import-not-at-top

    data = splits.load_domains(config.data)
  except ImportError:
    return None
  from tljax import methods  # pylint: disable=g-import-not-at-top

  names = methods.create(config, 10).streams
  return splits.training_streams(config, splits.training_sets(config, data, names), names)


def time_loop(config, timed: CompiledStep, steps: int) -> float | None:
  """Seconds per step of the loop's own work on real batches: next batch, put, dispatch."""
  import jax  # pylint: disable=g-import-not-at-top

  from tljax.data import streams as streams_lib  # pylint: disable=g-import-not-at-top

  streams = _real_streams(config)
  if streams is None:
    return None
  batches = streams_lib.batches(streams)
  placement, state = timed.placement, timed.state
  state, _ = timed.compiled(state, placement.put_batch(next(batches)), timed.rng)
  jax.block_until_ready(state)
  start = time.perf_counter()
  for _ in range(steps):
    state, metrics = timed.compiled(state, placement.put_batch(next(batches)), timed.rng)
  jax.block_until_ready((state, metrics))
  timed.state = state
  return (time.perf_counter() - start) / steps


def time_pipeline(config, num_batches: int = 200) -> float | None:
  """Examples/s of the real input pipeline alone (None without TensorFlow)."""
  from tljax.data import streams as streams_lib  # pylint: disable=g-import-not-at-top

  streams = _real_streams(config)
  if streams is None:
    return None
  batches = streams_lib.batches(streams)
  next(batches)
  start = time.perf_counter()
  for _ in range(num_batches):
    next(batches)
  per_step = config.data.batch_size * len(streams)
  return round(num_batches * per_step / (time.perf_counter() - start), 1)


def measure(config, steps: int, warmup: int, pipeline_batches: int = 200) -> dict:
  """What bench.json holds: the train step's timings, then the pipeline's."""
  return {
    "config_method": config.method.name,
    "batch_size_per_domain": config.data.batch_size,
    "xla_flags": os.environ.get("XLA_FLAGS", ""),
    **time_train_step(config, steps, warmup, loop_steps=steps),
    "pipeline_examples_per_sec": time_pipeline(config, pipeline_batches),
  }


def compare_methods(config, names: list[str], steps: int, warmup: int, rounds: int) -> dict:
  """Every method's step on `config`, timed in interleaved rounds; cost relative to DANN."""
  import jax  # pylint: disable=g-import-not-at-top

  from tljax import methods  # pylint: disable=g-import-not-at-top

  names = methods.names() if names == ["all"] else names
  for name in names:
    methods.find(name)  # A one-line error for an unknown name, before compiling anything.
  compiled = {}
  for name in names:
    point = config.copy_and_resolve_references()
    point.method.name = name
    compiled[name] = CompiledStep(point)
  seconds = {name: [] for name in names}
  for _ in range(rounds):
    for name in names:
      seconds[name].append(compiled[name].seconds_per_step(steps, warmup))
  per_method = {}
  for name in names:
    entry = {
      "seconds_per_step": round(float(np.median(seconds[name])), 5),
      "per_round": [round(t, 5) for t in seconds[name]],
      "compile_seconds": round(compiled[name].compile_seconds, 3),
      "examples_per_step": config.data.batch_size * len(compiled[name].streams),
    }
    if "dann" in seconds:
      ratios = [t / d for t, d in zip(seconds[name], seconds["dann"])]
      entry["relative_to_dann"] = round(float(np.median(ratios)), 3)
    per_method[name] = entry
  return {
    "batch_size_per_domain": config.data.batch_size,
    "steps_per_round": steps,
    "rounds": rounds,
    "xla_flags": os.environ.get("XLA_FLAGS", ""),
    "backend": jax.default_backend(),
    "device_kind": jax.devices()[0].device_kind,
    "methods": per_method,
  }


def main(argv):
  del argv
  cli.start()
  config = cli.CONFIG.value
  if _METHODS.value:
    names = _METHODS.value.split(",")
    args = (config, names, _STEPS.value, _WARMUP.value, _ROUNDS.value)
    result = cli.exit_on_user_error(compare_methods, *args)
    timing.write_json(result, (cli.WORKDIR.value or "runs/bench"), "bench_methods.json")
    return
  if _PIPELINE_ONLY.value:
    examples = cli.exit_on_user_error(time_pipeline, config, _PIPELINE_BATCHES.value)
    result = {"pipeline_examples_per_sec": examples, "cpu_count": os.cpu_count()}
    result |= {"batch_size_per_domain": config.data.batch_size, "source": config.data.source}
    timing.write_json(result, (cli.WORKDIR.value or "runs/bench"), "bench_pipeline.json")
    return
  result = cli.exit_on_user_error(
    measure, config, _STEPS.value, _WARMUP.value, _PIPELINE_BATCHES.value
  )
  timing.write_json(result, (cli.WORKDIR.value or "runs/bench"), "bench.json")


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)

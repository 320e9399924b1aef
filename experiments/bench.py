"""Throughput of a config's train step and input pipeline; writes bench.json.

    python -m experiments.bench --config configs/dann_digits.py --workdir /tmp/bench

The step is timed on synthetic in-memory batches of the config's shapes, so it
also runs where TensorFlow is absent (the pipeline timing is then skipped).
Reported: compile seconds (the first call: trace, compile, one step), the
median steady-state seconds per step (each ended with `block_until_ready`),
steps/s and examples/s (source + target).
"""

import os
import time

from absl import app, flags
import numpy as np

from experiments import cli, timing

_WORKDIR = flags.DEFINE_string("workdir", "runs/bench", "bench.json goes here.")
_STEPS = flags.DEFINE_integer("steps", 50, "Timed steps after warm-up.")
_WARMUP = flags.DEFINE_integer("warmup", 5, "Untimed steps after compiling.")


def synthetic_batch(config, streams, rng: np.random.Generator) -> dict:
  """Random uint8 images (and labels of 10 classes) for each of a method's streams."""
  from tljax.methods import base  # pylint: disable=g-import-not-at-top

  size, channels, bs = config.data.image_size, config.data.channels, config.data.batch_size
  batch = {}
  for name in streams:
    batch[name] = {"image": rng.integers(0, 256, (bs, size, size, channels), dtype=np.uint8)}
    if base.LABELLED[name]:
      batch[name]["label"] = rng.integers(0, 10, (bs,))
  return batch


def time_train_step(config, steps: int, warmup: int) -> dict:
  import jax  # pylint: disable=g-import-not-at-top

  from tljax.train import build  # pylint: disable=g-import-not-at-top

  size, channels = config.data.image_size, config.data.channels
  built = build.build(config, (size, size, channels), num_classes=10)
  compiled, placement = built.train_step, built.placement
  state = placement.put_state(built.state)
  streams = built.method.streams
  batch = placement.put_batch(synthetic_batch(config, streams, np.random.default_rng(0)))
  rng = jax.random.key(0)
  start = time.perf_counter()  # The first call traces, compiles and runs once.
  state, metrics = compiled(state, batch, rng)
  jax.block_until_ready(state)
  compile_seconds = time.perf_counter() - start

  def step():
    nonlocal state, metrics
    state, metrics = compiled(state, batch, rng)
    jax.block_until_ready(state)

  seconds = float(np.median(timing.time_calls(step, warmup, steps)))
  per_step = config.data.batch_size * len(streams)
  return {
    "compile_seconds": round(compile_seconds, 3),
    "seconds_per_step": round(seconds, 5),
    "train_steps_per_sec": round(1.0 / seconds, 2),
    "examples_per_sec": round(per_step / seconds, 1),
    "examples_per_step": per_step,
    "final_loss": float(np.mean(metrics["loss"])),
    "parallel": config.parallel,
    "device_kind": jax.devices()[0].device_kind,
    "device_count": jax.device_count(),
    "backend": jax.default_backend(),
  }


def time_pipeline(config, num_batches: int = 200) -> float | None:
  """Examples/s of the real input pipeline alone (None without TensorFlow)."""
  try:
    from tljax.train import splits  # pylint: disable=g-import-not-at-top

    data = splits.load_domains(config.data)
  except ImportError:
    return None
  from tljax.data import domains  # pylint: disable=g-import-not-at-top
  from tljax.methods import base  # pylint: disable=g-import-not-at-top

  streams = splits.training_streams(config, data, base.create(config, 10).streams)
  batches = domains.batches(streams)
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
    **time_train_step(config, steps, warmup),
    "pipeline_examples_per_sec": time_pipeline(config, pipeline_batches),
  }


def main(argv):
  del argv
  cli.start()
  result = cli.exit_on_user_error(measure, cli.CONFIG.value, _STEPS.value, _WARMUP.value)
  timing.write_json(result, _WORKDIR.value, "bench.json")


if __name__ == "__main__":
  app.run(main)

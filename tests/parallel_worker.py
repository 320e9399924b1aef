"""Runs a few steps of DANN (or each method) under each parallel mode; saves the whole state.

Used by test_parallel.py, test_methods.py, test_text.py and test_xla_cpu.py in
subprocesses, since the device count and XLA flags are fixed when JAX starts:

    XLA_FLAGS=--xla_force_host_platform_device_count=8 \
      python -m tests.parallel_worker --modes single,per_device,sharded --out DIR

Each run saves every leaf of the state before ("init/...") and after
("final/...") its steps: params, optimizer state, BatchNorm statistics, the
EMA weights and the method's state. Mode `pmap` is a reference outside tljax:
the same pure step under `jax.pmap`, as tljax ran its per-device mode before.
"""

import argparse
import os
import tempfile

import jax
import numpy as np

from configs import digits, sentiment, spoken_digits
from tests import helpers
from tljax import methods
from tljax.core import placement as parallel
from tljax.run import build

STEPS, BATCH = int(os.environ.get("WORKER_STEPS", 3)), 16


def global_batch(
  step: int, size: int, streams=("source", "target"), model: str = "tiny", domains: int = 1
) -> dict:
  """The same global batch in every process and mode: images, bags of n-grams or token ids;
  with several `domains`, the source rows carry them in equal blocks (a multi-source batch)."""
  rng = np.random.default_rng(step)
  batch = {}
  for name in streams:
    if model == "text_bag":
      batch[name] = {"input": (rng.random((BATCH, size)) < 0.05).astype(np.float32)}
    elif model == "text_conv":
      batch[name] = {"input": rng.integers(0, size, (BATCH, 12)).astype(np.int32)}
    elif model == "audio_conv":
      batch[name] = {"input": rng.normal(0, 3000, (BATCH, size)).astype(np.int16)}
    else:
      batch[name] = {"input": rng.integers(0, 256, (BATCH, size, size, 3), dtype=np.uint8)}
    if name != "target":
      batch[name]["label"] = rng.permutation(np.arange(BATCH) % 3)  # Every class present.
    if name == "source" and domains > 1:
      batch[name]["domain"] = (np.arange(BATCH) * domains // BATCH).astype(np.int32)
    else:  # Rows of the (BATCH-example) target set, for methods that keep a memory of it.
      batch[name]["index"] = rng.permutation(BATCH).astype(np.int32)
  return batch


def run(modes, model: str, method: str = "dann", norm: str = "none", shift: int = 0) -> dict:
  """{mode: saved leaves} of one build of `method`, stepped under each mode from the same state.

  The single mode also saves its last step's metrics ("metric/..."), how
  many programs its step compiled ("compiles"), and the method's progress-line
  metrics ("labels") and streams.
  """
  if model.startswith("text"):
    config = sentiment.get_config("tiny,conv" if model == "text_conv" else "tiny")
    size = config.data.text.vocab_size
    shape = (size,) if model == "text_bag" else (12,)
  elif model == "audio_conv":
    config = spoken_digits.get_config("tiny")
    size = config.data.audio.num_samples = 2000
    shape = (size,)
    norm = "batch"
  else:
    config = digits.get_config("tiny")
    config.model.name = model
    size = 28 if model == "digits_net" else 12
    shape = (size, size, 3)
    # Two source domains: every method meets the batches of a multi-source run.
    config.data.source, config.data.target = "digits,digits_m", "usps"
  domains = len(config.data.source.split(","))
  config.method.name = method
  config.data.batch_size = BATCH
  # Per device, each device draws its own random shifts (rng folded with the
  # device index) and normalises with its own BatchNorm statistics: that equals
  # single-device maths only with neither, and equals the pmap reference always.
  config.data.random_shift = shift
  config.model.norm = norm
  helpers.provide_teacher(config, shape, 3, tempfile.mkdtemp())
  sets = global_batch(1000, size, ("source", "target", "target_labelled"), model, domains)
  built = build.build(config, shape, 3, sets)  # The step is the same pure function in every mode.
  init = _leaves("init", built.state)
  saved = {}
  for mode in modes:
    placement = parallel.Placement("per_device" if mode == "pmap" else mode)
    fresh = jax.tree.map(lambda x: x.copy() if isinstance(x, jax.Array) else x, built.state)
    if mode == "pmap":
      step_fn, state = _pmapped(built)
    else:
      step_fn, state = placement.compile(built.pure_step), placement.put_state(fresh)
    rng = jax.random.key(0)
    for step in range(STEPS):
      batch = global_batch(step, size, built.method.streams, model, domains)
      rows = parallel.process_rows(batch, jax.process_index(), jax.process_count())
      if mode == "pmap":
        d = jax.local_device_count()
        rows = jax.tree.map(lambda x: x.reshape(d, x.shape[0] // d, *x.shape[1:]), rows)
        state, metrics = step_fn(state, rows, rng)
      else:
        state, metrics = step_fn(state, placement.put_batch(rows), rng)
    if mode == "pmap":
      state = jax.tree.map(lambda x: x[0], state)
    saved[mode] = {**init, **_leaves("final", state)}
    if mode == "single":
      saved[mode]["compiles"] = np.asarray(step_fn._cache_size())  # pylint: disable=protected-access
      saved[mode]["labels"] = np.asarray(sorted(built.method.labels), dtype=str)
      saved[mode]["streams"] = np.asarray(built.method.streams, dtype=str)
      saved[mode].update({f"metric/{k}": np.asarray(v) for k, v in metrics.items()})
  return saved


def _pmapped(built):
  """The run's pure step under jax.pmap (replicated state along a leading axis): the reference."""
  import functools  # pylint: disable=g-import-not-at-top

  step = functools.partial(built.pure_step, axis_name="batch")
  pmapped = jax.pmap(step, axis_name="batch", in_axes=(0, 0, None))
  d = jax.local_device_count()
  state = jax.tree.map(lambda x: np.broadcast_to(np.asarray(x), (d, *np.shape(x))), built.state)
  return pmapped, state


def _leaves(prefix: str, state) -> dict:
  """{"prefix/params/...": array} for every leaf of the state (one copy, this host's)."""
  leaves = jax.tree_util.tree_leaves_with_path(state)
  out = {}
  for path, x in leaves:
    value = x.addressable_data(0) if isinstance(x, jax.Array) else x
    out[f"{prefix}/{jax.tree_util.keystr(path)}"] = np.asarray(value)
  return out


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--modes", default="single,per_device,sharded")
  parser.add_argument("--norm", default="none", help="model.norm: none or batch")
  parser.add_argument("--shift", type=int, default=0, help="data.random_shift")
  parser.add_argument("--out", required=True)
  parser.add_argument(
    "--model", default="tiny", help="tiny, digits_net, text_bag, text_conv or audio_conv"
  )
  parser.add_argument("--tag", default="")
  parser.add_argument("--methods", default="dann", help="comma-separated, or 'all'")
  parser.add_argument("--coordinator", default=None)
  parser.add_argument("--num_processes", type=int, default=1)
  parser.add_argument("--process_id", type=int, default=0)
  args = parser.parse_args()
  if args.num_processes > 1:
    jax.distributed.initialize(args.coordinator, args.num_processes, args.process_id)
  names = methods.names() if args.methods == "all" else args.methods.split(",")
  for method in names:
    saved = run(args.modes.split(","), args.model, method, args.norm, args.shift)
    for mode, params in saved.items():
      if jax.process_index() == 0:
        tag = f"{mode}_{jax.process_count()}x{jax.local_device_count()}{args.tag}"
        tag = tag if args.methods == "dann" else f"{method}_{tag}"
        np.savez(os.path.join(args.out, f"{tag}.npz"), **params)


if __name__ == "__main__":
  main()

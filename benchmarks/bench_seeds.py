"""Several seeds in one compiled program: `jax.vmap` of the train step against one seed's step.

    python -m benchmarks.bench_seeds --config configs/mnist_mnistm.py --seed_count=3 \\
        --workdir /tmp/bench_seeds

The config's method is built once per seed (seeds config.seed, +1, ...: each
its own initial weights), the states stacked along a leading seed axis, and
the same pure train step compiled twice: `jit(step)` for one seed and
`jit(vmap(step))` over (state, batch, rng) for all of them, each seed with
its own synthetic batch and key. In `--rounds` interleaved rounds (and `--steps`,
`--warmup`, as `benchmarks.bench`) it times
both (median seconds per call), and it checks the maths: after `--check_steps`
steps every seed's slice of the vectorised state is compared with the state
that seed reaches alone (the largest difference relative to the leaf's
scale is reported; float rounding, not bits, since XLA batches the
convolutions differently). Writes bench_seeds.json with `speedup` = seeds x
one seed's step / the vectorised step: how much faster N seeds train in one
program than one after another. Synthetic in-memory batches, no TensorFlow:
it runs as it is on a GPU (add `--config.train.dtype=bfloat16` for mixed
precision, e.g. with `configs/office31.py`, ResNet-50 at 224 px).
"""

import time

from absl import app, flags
import numpy as np

from benchmarks import bench, timing
from tljax.run import cli

_SEEDS = flags.DEFINE_integer("seed_count", 3, "Seeds in the vectorised program.")
_CHECK_STEPS = flags.DEFINE_integer("check_steps", 3, "Steps of the equality check.")
FLAGS = flags.FLAGS  # --steps, --warmup and --rounds are benchmarks.bench's.


class SeedSteps:
  """One config's method built for each of `count` seeds: their states, batches and keys, and
  the step compiled for one seed and vectorised over all."""

  def __init__(self, config, count: int):
    import jax  # pylint: disable=g-import-not-at-top

    from tljax.run import build  # pylint: disable=g-import-not-at-top

    if count < 1:
      raise ValueError(f"--seed_count={count} must be >= 1")
    shape = (config.data.image_size, config.data.image_size, config.data.channels)
    built, states, self.batches, self.keys = None, [], [], []
    for i in range(count):
      point = config.copy_and_resolve_references()
      point.seed = config.seed + i
      rng = np.random.default_rng([point.seed, 1])
      sets = bench.synthetic_batch(point, ("source", "target", "target_labelled"), rng)
      built = build.build(point, shape, 10, sets)
      states.append(built.state)
      self.batches.append(bench.synthetic_batch(point, built.method.streams, rng))
      self.keys.append(jax.random.key(point.seed))
    self.states = states
    self.one = jax.jit(built.pure_step)
    self.many = jax.jit(jax.vmap(built.pure_step))
    stack = lambda *xs: jax.numpy.stack(xs)  # noqa: E731
    self.stacked_state = jax.tree.map(stack, *states)
    self.stacked_batch = jax.tree.map(stack, *self.batches)
    self.stacked_keys = jax.numpy.stack(self.keys)

  def time_one(self) -> None:
    import jax  # pylint: disable=g-import-not-at-top

    self.states[0], _ = self.one(self.states[0], self.batches[0], self.keys[0])
    jax.block_until_ready(self.states[0])

  def time_many(self) -> None:
    import jax  # pylint: disable=g-import-not-at-top

    self.stacked_state, _ = self.many(self.stacked_state, self.stacked_batch, self.stacked_keys)
    jax.block_until_ready(self.stacked_state)


def largest_difference(separate: list, stacked) -> float:
  """max over seeds and leaves of |vectorised - alone| / (max |alone| + 1e-12), float leaves."""
  import jax  # pylint: disable=g-import-not-at-top

  worst = 0.0
  for i, alone in enumerate(separate):
    mine = jax.tree.map(lambda x, i=i: x[i], stacked)
    for a, b in zip(jax.tree.leaves(alone), jax.tree.leaves(mine)):
      a, b = np.asarray(a), np.asarray(b)
      if not np.issubdtype(a.dtype, np.floating) or not a.size:
        continue
      worst = max(worst, float(np.abs(a - b).max() / (np.abs(a).max() + 1e-12)))
  return worst


def check(seeds: SeedSteps, steps: int) -> float:
  """The largest relative difference between each seed alone and in the vectorised program,
  after `steps` steps from the seeds' initial states."""
  separate = []
  for state, batch, key in zip(seeds.states, seeds.batches, seeds.keys):
    for _ in range(steps):
      state, _ = seeds.one(state, batch, key)
    separate.append(state)
  stacked = seeds.stacked_state
  for _ in range(steps):
    stacked, _ = seeds.many(stacked, seeds.stacked_batch, seeds.stacked_keys)
  return largest_difference(separate, stacked)


def _compile_seconds(jitted, *args) -> float:
  """Seconds to trace and compile `jitted` for `args` (ahead of time: nothing runs)."""
  start = time.perf_counter()
  jitted.lower(*args).compile()
  return round(time.perf_counter() - start, 3)


def measure(config, count: int, steps: int, warmup: int, rounds: int, check_steps: int) -> dict:
  """What bench_seeds.json holds."""
  import jax  # pylint: disable=g-import-not-at-top

  seeds = SeedSteps(config, count)
  compile_seconds = {
    "one": _compile_seconds(seeds.one, seeds.states[0], seeds.batches[0], seeds.keys[0]),
    "vectorised": _compile_seconds(
      seeds.many, seeds.stacked_state, seeds.stacked_batch, seeds.stacked_keys
    ),
  }
  difference = check(seeds, check_steps)
  one, many = [], []
  for _ in range(rounds):
    one.append(timing.summary(timing.time_calls(seeds.time_one, warmup, steps))["median"])
    many.append(timing.summary(timing.time_calls(seeds.time_many, warmup, steps))["median"])
  t_one, t_many = float(np.median(one)), float(np.median(many))
  return {
    "config_method": config.method.name,
    "seeds": count,
    "batch_size_per_domain": config.data.batch_size,
    "dtype": config.train.dtype,
    "one_seed_seconds_per_step": {"median": round(t_one, 6), "per_round": one},
    "vectorised_seconds_per_step": {"median": round(t_many, 6), "per_round": many},
    "speedup": round(count * t_one / t_many, 3),
    "compile_seconds": compile_seconds,
    "max_relative_difference": difference,
    "check_steps": check_steps,
    "backend": jax.default_backend(),
    "device_kind": jax.devices()[0].device_kind,
  }


def main(argv):
  del argv
  cli.start()
  config = cli.CONFIG.value
  args = (config, _SEEDS.value, FLAGS.steps, FLAGS.warmup, FLAGS.rounds, _CHECK_STEPS.value)
  result = cli.exit_on_user_error(measure, *args)
  timing.write_json(result, (cli.WORKDIR.value or "runs/bench"), "bench_seeds.json")


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)

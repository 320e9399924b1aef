"""Several seeds in one compiled program against one seed's step, each program.

    python -m benchmarks.bench_seeds --config configs/mnist_mnistm.py --seed_count=3 \\
        --workdir /tmp/bench_seeds

The config's method is built once per seed (seeds config.seed, +1, ...: each
its own initial weights) and the same pure train step compiled for one seed
(`jit(step)`) and for all of them in the programs a run with
`config.train.num_seeds` can use (`tljax.run.seeds.seeds_step`): "sequential"
(the one seed's compiled step called for each seed in turn), "unrolled" (each
seed's own step, one after another in one program) and "vmap" (the step
vectorised over a seed axis), each seed with its own synthetic batch and key.
In `--rounds` interleaved rounds (and `--steps`, `--warmup`, as
`benchmarks.bench`) it times them all (median seconds per call), and it
checks the maths: after `--check_steps` steps every seed's state in each
program is compared with the state that seed reaches alone (the largest
difference relative to the leaf's scale; 0 means bit for bit). Writes
bench_seeds.json with each program's `speedup` = seeds x one seed's step /
the program's step: how much faster N seeds train in one program than one
after another.

It also times one seed's step on N times the batch (`wider_batch`): the
arithmetic of N seeds' steps with each convolution run once over all of it,
what batching the seeds together could at best turn their steps into. Where
that takes N times one seed's step or more (`times_one_seed`), a wider kernel
does not run faster per image on this machine, and no program can bring N
seeds' step near one seed's. Synthetic in-memory batches, no TensorFlow: it
runs as it is on a GPU (add `--config.train.dtype=bfloat16` for mixed
precision, e.g. with `configs/office31.py`, ResNet-50 at 224 px).
"""

import time

from absl import app, flags
import numpy as np

from benchmarks import bench, timing
from tljax.run import cli

_SEEDS = flags.DEFINE_integer("seed_count", 3, "Seeds in the programs.")
_CHECK_STEPS = flags.DEFINE_integer("check_steps", 3, "Steps of the equality check.")
FLAGS = flags.FLAGS  # --steps, --warmup and --rounds are benchmarks.bench's.


PROGRAMS = ("sequential", "unrolled", "vmap")


class SeedSteps:
  """One config's method built for each of `count` seeds: their states, batches and keys, the
  step compiled for one seed, and the seeds' `programs` (by default all of `PROGRAMS`)."""

  def __init__(self, config, count: int, programs: tuple[str, ...] = PROGRAMS):
    import jax  # pylint: disable=g-import-not-at-top

    from tljax.run import build, seeds  # pylint: disable=g-import-not-at-top

    if count < 1:
      raise ValueError(f"--seed_count={count} must be >= 1")
    shape = (config.data.image_size, config.data.image_size, config.data.channels)
    built, states, batches, keys = None, [], [], []
    for i in range(count):
      point = config.copy_and_resolve_references()
      point.seed = config.seed + i
      rng = np.random.default_rng([point.seed, 1])
      sets = bench.synthetic_batch(point, ("source", "target", "target_labelled"), rng)
      built = build.build(point, shape, 10, sets)
      states.append(built.state)
      batches.append(bench.synthetic_batch(point, built.method.streams, rng))
      keys.append(jax.random.key(point.seed))
    self.states, self.batches, self.keys = states, tuple(batches), tuple(keys)
    self.one = jax.jit(built.pure_step)
    self.programs = {name: seeds.seeds_step(built.pure_step, name) for name in programs}
    self.together = {name: tuple(states) for name in programs}

  def time_one(self) -> None:
    import jax  # pylint: disable=g-import-not-at-top

    self.states[0], _ = self.one(self.states[0], self.batches[0], self.keys[0])
    jax.block_until_ready(self.states[0])

  def timer(self, program: str):
    """A callable that takes one step of every seed in `program`."""
    import jax  # pylint: disable=g-import-not-at-top

    def step():
      self.together[program], _ = self.programs[program](
        self.together[program], self.batches, self.keys
      )
      jax.block_until_ready(self.together[program])

    return step


def largest_difference(separate: list, together: list) -> float:
  """max over seeds and float leaves of |in the program - alone| / (max |alone| + 1e-12)."""
  import jax  # pylint: disable=g-import-not-at-top

  worst = 0.0
  for alone, mine in zip(separate, together):
    for a, b in zip(jax.tree.leaves(alone), jax.tree.leaves(mine)):
      a, b = np.asarray(a), np.asarray(b)
      if not np.issubdtype(a.dtype, np.floating) or not a.size:
        continue
      worst = max(worst, float(np.abs(a - b).max() / (np.abs(a).max() + 1e-12)))
  return worst


def check(seeds: SeedSteps, steps: int) -> dict[str, float]:
  """Per program, the largest relative difference between each seed alone and in the program,
  after `steps` steps from the seeds' initial states."""
  separate = []
  for state, batch, key in zip(seeds.states, seeds.batches, seeds.keys):
    for _ in range(steps):
      state, _ = seeds.one(state, batch, key)
    separate.append(state)
  out = {}
  for name, program in seeds.programs.items():
    together = tuple(seeds.states)
    for _ in range(steps):
      together, _ = program(together, seeds.batches, seeds.keys)
    out[name] = largest_difference(separate, together)
  return out


def _compile_seconds(jitted, *args) -> float:
  """Seconds to trace and compile `jitted` for `args` (ahead of time: nothing runs), with JAX's
  caches emptied first, so a program that compiles the one seed's step counts its compile."""
  import jax  # pylint: disable=g-import-not-at-top

  jax.clear_caches()
  start = time.perf_counter()
  jitted.lower(*args).compile()
  return round(time.perf_counter() - start, 3)


def measure(
  config, count: int, steps: int, warmup: int, rounds: int, check_steps: int, programs=PROGRAMS
) -> dict:
  """What bench_seeds.json holds (for the seeds' `programs`)."""
  import jax  # pylint: disable=g-import-not-at-top

  seeds = SeedSteps(config, count, programs)
  together = tuple(seeds.states)
  compile_one = _compile_seconds(seeds.one, seeds.states[0], seeds.batches[0], seeds.keys[0])
  compile_s = {
    name: _compile_seconds(program, together, seeds.batches, seeds.keys)
    for name, program in seeds.programs.items()
  }
  difference = check(seeds, check_steps)
  wider = config.copy_and_resolve_references()
  wider.data.batch_size = count * config.data.batch_size
  wide = bench.CompiledStep(wider)
  timers = {
    "one": seeds.time_one,
    **{name: seeds.timer(name) for name in programs},
    "wider_batch": wide.step,
  }
  medians = {name: [] for name in timers}
  for _ in range(rounds):
    for name, call in timers.items():
      medians[name].append(timing.summary(timing.time_calls(call, warmup, steps))["median"])
  t_one = float(np.median(medians["one"]))
  timed = {}
  for name in programs:
    t = float(np.median(medians[name]))
    timed[name] = {
      "seconds_per_step": {"median": round(t, 6), "per_round": medians[name]},
      "speedup": round(count * t_one / t, 3),
      "compile_seconds": compile_s[name],
      "max_relative_difference": difference[name],
    }
  t_wide = float(np.median(medians["wider_batch"]))
  return {
    "config_method": config.method.name,
    "seeds": count,
    "batch_size_per_domain": config.data.batch_size,
    "dtype": config.train.dtype,
    "one_seed_seconds_per_step": {"median": round(t_one, 6), "per_round": medians["one"]},
    "one_seed_compile_seconds": compile_one,
    "programs": timed,
    "wider_batch": {
      "batch_size_per_domain": wider.data.batch_size,
      "seconds_per_step": {"median": round(t_wide, 6), "per_round": medians["wider_batch"]},
      "times_one_seed": round(t_wide / t_one, 3),
      "speedup": round(count * t_one / t_wide, 3),
    },
    "check_steps": check_steps,
    "backend": jax.default_backend(),
    "device_kind": jax.devices()[0].device_kind,
    "machine": timing.machine(),
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

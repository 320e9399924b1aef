"""Several seeds in one process and one compiled program (`config.train.num_seeds` > 1).

Seeds config.seed, +1, ... each get their own run directory, WORKDIR/seed=<s>,
laid out as a single run of that seed (its config.json has that seed and
num_seeds 1, so it resumes or reports alone as any run): their own initial
weights, data order, checkpoints, TensorBoard events, evaluations and
results.json. The data is read once and the step compiled once for all
seeds, each with its own state, batch and key, in one of three programs
(`config.train.seeds_program`, `seeds_step`): "sequential", the one seed's
compiled step called for each seed in turn; "unrolled", every seed's own step
one after another inside one compiled program (both compute bit for bit what
each seed computes alone); or "vmap", `jax.vmap` of the same pure step over a
seed axis (one wider kernel per operation: equal to a seed alone up to float
rounding). "auto" (the default) is "sequential" on the CPU, where one seed's
step already keeps every core busy and neither a longer program nor XLA's
vectorised convolutions (grouped convolutions) run faster
(docs/performance.md), and "vmap" on accelerators, where one small network
leaves most of the chip idle. Logging, evaluation, checkpoints and the final
evaluation are each seed's own, at the same steps. Seeds whose checkpoints
stand at different steps train one after the other instead.
"""

import contextlib
import logging
import os

import jax
import jax.numpy as jnp

from tljax.data import splits
from tljax.data import streams as streams_lib
from tljax.errors import ConfigError
from tljax.run import loop as loop_lib
from tljax.run import signals, validate
from tljax.run import workdir as workdir_lib

log = logging.getLogger("tljax")


def seed_configs(config) -> list:
  """One config per seed: `seed` + i, `num_seeds` 1 (what a single run of it records)."""
  count = config.train.num_seeds
  out = []
  for i in range(count):
    one = config.copy_and_resolve_references()
    with one.unlocked():
      one.seed, one.train.num_seeds = config.seed + i, 1
    out.append(one)
  return out


def check(config) -> None:
  """ConfigError unless several seeds can share one program."""
  count = config.train.num_seeds
  if not isinstance(count, int) or count < 1:
    raise ConfigError(f"config.train.num_seeds={count!r} must be an integer >= 1")
  if count > 1 and config.parallel != "single":
    raise ConfigError(
      f"config.train.num_seeds={count} trains the seeds in one program on one device; it needs "
      f"config.parallel='single', not {config.parallel!r}"
    )
  if count > 1 and jax.process_count() > 1:
    raise ConfigError(f"config.train.num_seeds={count} runs in one process, not several")


def train_and_evaluate(config, root: str, allow_config_change=False, allow_restart=False):
  """Trains and evaluates every seed of `config` under `root`; returns their results, in order."""
  check(config)
  configs = seed_configs(config)
  method = validate.validate_config(configs[0])
  data = splits.load_domains(configs[0].data, source=not method.source_free)
  workdirs = [os.path.join(root, f"seed={c.seed}") for c in configs]
  with contextlib.ExitStack() as stack:
    for workdir in workdirs:
      stack.enter_context(workdir_lib.locked(workdir))
    ready = [
      stack.enter_context(loop_lib.prepared(c, method, w, allow_config_change, data, allow_restart))
      for c, w in zip(configs, workdirs)
    ]
    starts = {start for _, _, start in ready}
    if len(starts) > 1:
      log.info("seeds resume from different steps %s: training them one by one", sorted(starts))
      return [loop_lib.finish(*r) for r in ready]
    loops = [r[0] for r in ready]
    trained = _run(loops, [r[1] for r in ready], starts.pop())
    return [loop_lib.finish(*r, trained=t) for r, t in zip(ready, trained)]


def _stack(trees):
  return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def _unstack(tree, count: int) -> tuple:
  return tuple(jax.tree.map(lambda x, i=i: x[i], tree) for i in range(count))


def seeds_step(pure_step, program: str = "auto"):
  """One compiled step of every seed: (states, batches, keys) -> (states, metrics), tuples with
  one entry per seed. `program`: one of `validate.SEEDS_PROGRAMS` (see the module docstring);
  "sequential" compiles one seed's step (jitted once, called per seed)."""
  if program not in validate.SEEDS_PROGRAMS:
    raise ConfigError(f"seeds_program={program!r} is not one of {validate.SEEDS_PROGRAMS}")
  if program == "auto":
    program = "sequential" if jax.default_backend() == "cpu" else "vmap"

  if program == "sequential":
    return _Sequential(jax.jit(pure_step))

  def unrolled(states, batches, keys):
    return tuple(zip(*(pure_step(*one) for one in zip(states, batches, keys))))

  def vectorised(states, batches, keys):
    state, metrics = jax.vmap(pure_step)(_stack(states), _stack(batches), jnp.stack(keys))
    return _unstack(state, len(states)), _unstack(metrics, len(states))

  return jax.jit(unrolled if program == "unrolled" else vectorised)


class _Sequential:
  """The "sequential" program: one seed's compiled step, called for each seed in turn."""

  def __init__(self, one_step):
    self.one_step = one_step

  def __call__(self, states, batches, keys):
    return tuple(zip(*(self.one_step(*one) for one in zip(states, batches, keys))))

  def lower(self, states, batches, keys):
    """What compiling the program compiles: the one step, lowered for the first seed."""
    return self.one_step.lower(states[0], batches[0], keys[0])


def _run(loops: list, states: list, start_step: int) -> list:
  """Trains every seed's state to train.num_steps in one program; their final states.

  Each loop logs, evaluates and checkpoints its own seed at the steps a single run would; a
  SIGTERM or Ctrl-C saves every seed's checkpoint, then raises `signals.Preempted`.
  """
  tc = loops[0].config.train
  step_fn = seeds_step(loops[0].built.pure_step, tc.seeds_program)
  keys = tuple(jax.random.key(loop.config.seed) for loop in loops)
  iterators = [streams_lib.batches(loop.streams, start_step) for loop in loops]
  states, pending = tuple(states), []
  for loop in loops:
    loop.start_window(start_step)
    loop.prefix = f"seed {loop.config.seed} "
  with signals.noted(signals.caught_signals()) as received:
    for step in range(start_step + 1, tc.num_steps + 1):
      states, metrics = step_fn(states, tuple(next(it) for it in iterators), keys)
      pending.append(metrics)
      stop = signals.preempted(step, received)
      checkpoint_now = step % tc.ckpt_every == 0 or step == tc.num_steps or stop is not None
      if step % tc.log_every == 0 or checkpoint_now:
        window = jax.device_get(pending)
        pending = []
        for i, loop in enumerate(loops):
          loop.log_window(step, [m[i] for m in window])
      if step % tc.eval_every == 0 and step != tc.num_steps:
        for loop, state in zip(loops, states):
          loop.evaluate_at(step, state)
      if checkpoint_now:
        for loop, state in zip(loops, states):
          loop.save(state, step)
      if stop is not None:
        for loop in loops:
          loop.manager.wait_until_finished()
        raise signals.Preempted(stop, step)
  return list(states)

"""Orbax CheckpointManager wrappers: save the TrainState, restore the newest good one."""

import logging
import os

import jax
import orbax.checkpoint as ocp


def make_manager(workdir: str, max_to_keep: int = 2) -> ocp.CheckpointManager:
  """Manager over `workdir/checkpoints`, async writes, atomic commits."""
  return ocp.CheckpointManager(
    os.path.join(os.path.abspath(workdir), "checkpoints"),
    options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True),
  )


def save(manager: ocp.CheckpointManager, state) -> None:
  """Saves `state` under its own step, asynchronously (`manager.wait_until_finished()`)."""
  step = int(jax.device_get(state.step))
  manager.save(step, args=ocp.args.StandardSave(state), force=True)


def restore_latest(manager: ocp.CheckpointManager, state):
  """Returns (restored state, step), or (`state`, None) if nothing is saved.

  `state` supplies the tree structure, shapes and dtypes to restore into. A
  checkpoint that cannot be read (damaged or partial files) is skipped with a
  warning in favour of the next older one; orbax's atomic commits mean an
  interrupted write never shows up as a step at all.
  """
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
  for step in sorted(manager.all_steps(), reverse=True):
    try:
      return manager.restore(step, args=ocp.args.StandardRestore(abstract)), step
    except Exception as e:  # pylint: disable=broad-except
      logging.getLogger("tljax").warning(
        "checkpoint at step %d in %s is unreadable (%s: %s); trying an older one",
        step,
        manager.directory,
        type(e).__name__,
        str(e).splitlines()[0][:200],
      )
  return state, None

"""Orbax CheckpointManager wrappers: save the TrainState, restore the latest."""

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
  """Saves `state` under its own step (asynchronously; see `wait`)."""
  step = int(jax.device_get(state.step))
  manager.save(step, args=ocp.args.StandardSave(state), force=True)


def restore_latest(manager: ocp.CheckpointManager, state):
  """Returns (restored state, step), or (`state`, None) if nothing is saved.

  `state` supplies the tree structure, shapes and dtypes to restore into.
  """
  step = manager.latest_step()
  if step is None:
    return state, None
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
  return manager.restore(step, args=ocp.args.StandardRestore(abstract)), step

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
  warning in favour of the next older one, and moved to
  `checkpoints_unreadable/` beside `checkpoints/` (kept for inspection; out of
  the way of the steps the resumed run will save). Orbax's atomic commits
  mean an interrupted write never shows up as a step at all.
  """
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
  for step in sorted(manager.all_steps(), reverse=True):
    try:
      return manager.restore(step, args=ocp.args.StandardRestore(abstract)), step
    except Exception as e:  # pylint: disable=broad-except
      aside = _move_aside(manager, step)
      logging.getLogger("tljax").warning(
        "checkpoint at step %d in %s is unreadable (%s: %s); moved to %s, trying an older one",
        step,
        manager.directory,
        type(e).__name__,
        str(e).splitlines()[0][:200],
        aside,
      )
  return state, None


def _move_aside(manager: ocp.CheckpointManager, step: int) -> str:
  """Moves step's directory out of the manager's sight; returns where to."""
  source = os.path.join(os.fspath(manager.directory), str(step))
  target_dir = os.fspath(manager.directory) + "_unreadable"
  target = os.path.join(target_dir, str(step))
  if jax.process_index() == 0 and os.path.isdir(source):
    os.makedirs(target_dir, exist_ok=True)
    if os.path.exists(target):
      target = f"{target}.{len(os.listdir(target_dir))}"
    os.rename(source, target)
  if jax.process_count() > 1:
    from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top

    multihost_utils.sync_global_devices(f"tljax: moved checkpoint {step} aside")
  manager.reload()
  return target

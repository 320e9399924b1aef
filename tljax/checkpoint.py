"""Orbax CheckpointManager wrappers: save, restore the newest good one, init from another run."""

import logging
import os
import re

import jax
import numpy as np
import orbax.checkpoint as ocp

from tljax.errors import ConfigError


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


def read_pretrained(path: str) -> dict:
  """Flat {'params/classifier/...': array} of another run's newest checkpoint.

  `path` is a run's workdir, its `checkpoints/` directory, or one step's
  directory. The classifier's weights are the run's evaluation weights
  (`ema_params`, the same as its params without `train.ema_decay`).
  """
  path = os.path.abspath(os.path.expanduser(path))
  if os.path.isdir(os.path.join(path, "checkpoints")):
    path = os.path.join(path, "checkpoints")
  if os.path.isdir(os.path.join(path, "default")):  # One step's directory.
    restored = ocp.StandardCheckpointer().restore(os.path.join(path, "default"))
  else:
    manager = ocp.CheckpointManager(path) if os.path.isdir(path) else None
    if manager is None or manager.latest_step() is None:
      raise ConfigError(
        f"config.model.init_checkpoint={path!r} holds no checkpoint; give the workdir of a "
        "finished tljax run (e.g. a source_only run)"
      )
    restored = manager.restore(manager.latest_step(), args=ocp.args.StandardRestore())
  params = dict(restored["params"], classifier=restored["ema_params"])
  return {**flatten(params, "params"), **flatten(restored["batch_stats"], "batch_stats")}


def flatten(tree, prefix: str) -> dict:
  """{"prefix/a/b": leaf} for a nested dict."""
  if not isinstance(tree, dict):
    return {prefix: tree}
  out = {}
  for key, value in tree.items():
    out.update(flatten(value, f"{prefix}/{key}"))
  return out


def init_from_pretrained(variables: dict, pretrained: dict, skip=()) -> tuple[dict, dict]:
  """Copies `pretrained` arrays into `variables`, except names matching `skip`.

  Args:
    variables: {"params": tree, "batch_stats": tree} freshly initialised.
    pretrained: flat {"params/classifier/backbone/Conv_0/kernel": array, ...}.
    skip: regexes searched in names without the collection, e.g. "head/Dense_2"
      for a new output layer; those leaves keep their fresh initialisation.

  Returns:
    (variables, report) with report = {"loaded", "skipped", "new"}: lists of
    parameter names (`new`: absent from the checkpoint, freshly initialised).

  Raises:
    ConfigError naming the parameter whose shape differs from the checkpoint's.
  """
  report = {"loaded": [], "skipped": [], "new": []}

  def take(name: str, fresh):
    short = name.split("/", 1)[1]
    if any(re.search(p, short) for p in skip):
      report["skipped"].append(name)
      return fresh
    if name not in pretrained:
      report["new"].append(name)
      return fresh
    value = np.asarray(pretrained[name])
    if value.shape != np.shape(fresh):
      raise ConfigError(
        f"pretrained {name} has shape {value.shape} but the model's is {np.shape(fresh)}; "
        f"add a pattern for it to config.model.skip_load (e.g. {short.rsplit('/', 1)[0]!r}) "
        "to initialise it afresh"
      )
    report["loaded"].append(name)
    return value.astype(np.asarray(fresh).dtype)

  out = {}
  for collection, tree in variables.items():
    out[collection] = jax.tree_util.tree_map_with_path(
      lambda path, x, c=collection: take(c + "/" + param_name(path), x), tree
    )
  return out, report


def param_name(path) -> str:
  """'classifier/backbone/Conv_0/kernel' for a tree_map_with_path key path."""
  return "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)

"""Orbax CheckpointManager wrappers: save, restore the newest good one, init from another run."""

import contextlib
import errno
import functools
import logging
import os
import re
import shutil

import jax
import numpy as np
import orbax.checkpoint as ocp

from tljax import host
from tljax.core.state import param_name
from tljax.errors import ConfigError, DataError
from tljax.nested import flatten


def make_manager(workdir: str, max_to_keep: int = 2) -> ocp.CheckpointManager:
  """Manager over `workdir/checkpoints`, async writes, atomic commits."""
  return ocp.CheckpointManager(
    os.path.join(os.path.abspath(workdir), "checkpoints"),
    options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True),
    item_handlers=ocp.StandardCheckpointHandler(),  # So a new process can read metadata.
  )


def save(manager: ocp.CheckpointManager, state) -> None:
  """Saves `state` under its own step, asynchronously (`manager.wait_until_finished()`).

  DataError before writing anything when the disk cannot hold one more
  checkpoint: orbax's writer threads would fail one by one, each printing
  its traceback.
  """
  manager.wait_until_finished()  # The previous write's space is taken by now.
  needed = sum(int(np.prod(x.shape)) * x.dtype.itemsize for x in jax.tree.leaves(state))
  needed = int(needed * 1.1) + (1 << 20)  # Orbax's metadata and per-array overhead.
  directory = os.fspath(manager.directory)
  free = shutil.disk_usage(
    directory if os.path.isdir(directory) else os.path.dirname(directory)
  ).free
  if free < needed:
    raise DataError(
      f"the disk holding {directory} is full: a checkpoint needs about {needed / 2**20:.1f} MiB, "
      f"{free / 2**20:.1f} MiB are free; free space and rerun the same command: it resumes from "
      "the last complete checkpoint"
    )
  step = int(jax.device_get(state.step))
  manager.save(step, args=ocp.args.StandardSave(state), force=True)


DAMAGED, FATAL = 1, 2  # Outcomes of trying one step, besides success (0).


def no_space(error: BaseException) -> bool:
  """Whether `error` says the disk is full (orbax and tensorstore wrap it in other errors)."""
  if isinstance(error, OSError) and error.errno == errno.ENOSPC:
    return True
  text = str(error)
  return "RESOURCE_EXHAUSTED" in text or "No space left" in text


@contextlib.contextmanager
def disk_full_is_one_line(workdir: str):
  """Turns a full disk while writing checkpoints or results into one DataError naming the fix."""
  try:
    yield
  except Exception as e:  # pylint: disable=broad-except  (whatever orbax wraps ENOSPC in)
    if not no_space(e):
      raise
    raise DataError(
      f"the disk holding {workdir} is full ({_describe(e)[:120]}); free space and rerun the "
      "same command: it resumes from the last complete checkpoint"
    ) from None


def restore_latest(manager: ocp.CheckpointManager, state, allow_restart: bool = False):
  """Returns (restored state, step), or (`state`, None) if nothing is saved.

  `state` supplies the tree structure, shapes and dtypes to restore into.
  Steps are tried newest first, and what goes wrong decides what happens:

  - the step holds a state of another structure or shapes (another model or
    optimizer, e.g. a resume with `--allow_config_change` that adds
    `optim.clip_norm`): ConfigError naming the differing entries; nothing moves;
  - the files cannot be read for a reason outside them (permission denied,
    an I/O error): DataError; nothing moves;
  - the step's own files cannot be decoded (damaged or partial): a warning,
    the step moves to `checkpoints_unreadable/` (kept for inspection, out of
    the way of the steps the resumed run saves again), and the next older
    step is tried;
  - no step could be read at all: DataError, unless `allow_restart`, which
    trains from step 0.

  With several processes every process tries the same step and they agree on
  the outcome (the worst one wins) before acting, so none waits on another.
  Orbax's atomic commits mean an interrupted write never shows up as a step.
  """
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
  steps = sorted(manager.all_steps(), reverse=True)
  moved = []
  for step in steps:
    _check_structure(manager, step, abstract)
    outcome, restored, error = _try_restore(manager, step, abstract)
    outcome = _agree(outcome, step)
    if outcome == 0:
      return restored, step
    if outcome == FATAL:
      raise DataError(
        f"checkpoint at step {step} in {manager.directory} cannot be read "
        f"({_describe(error) if error else 'on another process'}); fix access to it and rerun"
      )
    moved.append(_move_aside(manager, step))
    logging.getLogger("tljax").warning(
      "warning: checkpoint at step %d in %s is unreadable (%s); moved to %s, trying an older one",
      step,
      manager.directory,
      _describe(error) if error else "on another process",
      moved[-1],
    )
  if moved and not allow_restart:
    raise DataError(
      f"no checkpoint in {manager.directory} could be read (moved to {os.path.dirname(moved[0])}); "
      "restore one, or rerun with --allow_restart to train from step 0"
    )
  return state, None


def restore_step(directory: str, step: int, state):
  """The state saved at `step` in `directory/checkpoints`, read-only (nothing moves).

  For analyses of a finished run: DataError if that step is missing or unreadable.
  """
  path = os.path.join(os.path.abspath(directory), "checkpoints")
  manager = ocp.CheckpointManager(
    path,
    options=ocp.CheckpointManagerOptions(read_only=True),
    item_handlers=ocp.StandardCheckpointHandler(),
  )
  try:
    if step not in manager.all_steps():
      raise DataError(
        f"{directory} has no checkpoint of step {step} (results.json's final step; found "
        f"{manager.all_steps() or 'none'}); the run's weights are gone: rerun it"
      )
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
    _check_structure(manager, step, abstract)
    outcome, restored, error = _try_restore(manager, step, abstract)
    if outcome:
      raise DataError(f"checkpoint at step {step} in {path} cannot be read ({_describe(error)})")
    return restored
  finally:
    manager.close()


def _names(tree) -> dict:
  """{'params.classifier.head.Dense_0.kernel': shape} for a state or orbax metadata tree."""
  leaves = jax.tree_util.tree_leaves_with_path(tree)
  out = {}
  for path, leaf in leaves:
    keys = [getattr(k, "key", getattr(k, "name", getattr(k, "idx", k))) for k in path]
    out[".".join(map(str, keys))] = tuple(getattr(leaf, "shape", ()))
  return out


def _check_structure(manager, step: int, abstract) -> None:
  """ConfigError if the step's saved tree differs from `abstract` (unreadable metadata passes)."""
  try:
    metadata = manager.item_metadata(step)
  except Exception:  # pylint: disable=broad-except  (damage shows again at restore)
    return
  saved = _names(getattr(metadata, "tree", metadata))
  wanted = _names(abstract)
  if not saved or saved == wanted:
    return
  diffs = [f"{n}: saved {saved.get(n, 'absent')}, now {wanted.get(n, 'absent')}"
           for n in sorted(set(saved) | set(wanted)) if saved.get(n) != wanted.get(n)]  # fmt: skip
  raise ConfigError(
    f"checkpoint at step {step} in {manager.directory} holds a train state of another "
    f"structure than this config builds ({len(diffs)} entries differ, e.g. "
    f"{'; '.join(diffs[:2])}); resume with the config it was saved with, or use another --workdir"
  )


def _try_restore(manager, step: int, abstract):
  """(0, state, None), (DAMAGED, None, error) or (FATAL, None, error) for one step."""
  try:
    return 0, manager.restore(step, args=ocp.args.StandardRestore(abstract)), None
  except Exception as e:  # pylint: disable=broad-except
    return (FATAL if _outside_the_files(e) else DAMAGED), None, e


def _outside_the_files(error: Exception) -> bool:
  """Permission and I/O errors are the file system's fault, not damage to the step.

  tensorstore reports them inside other exceptions (a ValueError saying
  `os_error_code=5` for EIO); only errors decoding a step's own files are damage.
  """
  if isinstance(error, OSError) and not isinstance(error, FileNotFoundError):
    return True
  text = str(error)
  outside = ("PERMISSION_DENIED", "Permission denied", "Input/output error", "os_error_code=5")
  return any(marker in text for marker in outside)


def _agree(outcome: int, step: int) -> int:
  """The worst outcome across processes (each process's own with one)."""
  if jax.process_count() == 1:
    return outcome
  from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top

  outcomes = multihost_utils.process_allgather(np.array(outcome, np.int32))
  return int(np.max(outcomes))


def _describe(error: Exception) -> str:
  return (
    f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    if str(error)
    else type(error).__name__
  )


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
  host.wait_for_all(f"tljax: moved checkpoint {step} aside")
  manager.reload()
  return target


def read_pretrained(path: str, field: str = "config.model.init_checkpoint") -> dict:
  """Flat {'params/classifier/...': array} of another run's newest checkpoint.

  `path` is a run's workdir, its `checkpoints/` directory, or one step's
  directory. The classifier's weights are the run's evaluation weights
  (`ema_params`: its params unless `train.ema_decay` or `train.average_from` averaged them).
  """
  path = os.path.abspath(os.path.expanduser(path))
  if os.path.isdir(os.path.join(path, "checkpoints")):
    path = os.path.join(path, "checkpoints")
  try:
    restored = _read_whole(path, field)
  except (ConfigError, DataError):
    raise
  except Exception as e:  # pylint: disable=broad-except  (orbax, tensorstore, a damaged file)
    raise DataError(
      f"the checkpoint in {path} cannot be read ({_describe(e)}); give a finished run whose "
      "checkpoints are intact"
    ) from None
  params = dict(restored["params"], classifier=restored["ema_params"])
  return {**flatten(params, "params"), **flatten(restored["batch_stats"], "batch_stats")}


def _read_whole(path: str, field: str) -> dict:
  """Every array of the newest checkpoint in `path` (or of the one step's directory `path`).

  The arrays' stored shapes are checked against this machine's memory first: a
  file that claims more than the machine holds is refused, not allocated.
  """
  if os.path.isdir(os.path.join(path, "default")):  # One step's directory.
    reader = ocp.StandardCheckpointer()
    item = os.path.join(path, "default")
    _check_claimed_size(reader.metadata(item), path)
    return reader.restore(item)
  manager = ocp.CheckpointManager(path) if os.path.isdir(path) else None
  if manager is None or manager.latest_step() is None:
    raise ConfigError(
      f"{field}={path!r} holds no checkpoint; give the workdir of a "
      "finished tljax run (e.g. a source_only run)"
    )
  step = manager.latest_step()
  _check_claimed_size(manager.item_metadata(step), path)
  return manager.restore(step, args=ocp.args.StandardRestore())


def _check_claimed_size(metadata, path: str) -> None:
  """DataError if the checkpoint's arrays would take more memory than this machine has."""
  tree = getattr(metadata, "item_metadata", None) or getattr(metadata, "tree", metadata)
  claimed = 0
  for leaf in jax.tree.leaves(tree):
    shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
    if shape is not None:
      claimed += int(np.prod(shape, dtype=np.float64)) * np.dtype(dtype or np.float32).itemsize
  available = host.ram_bytes()
  if available and claimed > available // 2:
    raise DataError(
      f"the checkpoint in {path} claims arrays of {claimed / 2**30:.1f} GiB, more than half of "
      f"this machine's {available / 2**30:.0f} GiB; it is not a checkpoint of a model that fits"
    )


def read_classifier(path: str, field: str = "config.model.init_checkpoint") -> dict:
  """{"params", "batch_stats"} (nested, numpy) of the classifier of the finished run in `path`.

  Read once per process and checkpoint (cached by path and modification
  time; callers copy before use): `create` checks it, `init` takes it.
  """
  path = os.path.abspath(os.path.expanduser(path))
  places = (path, os.path.join(path, "checkpoints"))
  stamp = tuple(os.stat(p).st_mtime_ns for p in places if os.path.exists(p))
  return _read_classifier(path, stamp, field)


@functools.lru_cache(maxsize=4)
def _read_classifier(path: str, stamp, field: str) -> dict:
  del stamp  # Part of the cache key only.
  tree = {"params": {}, "batch_stats": {}}
  for name, value in read_pretrained(path, field).items():
    collection, _, rest = name.partition("/")
    parts = rest.split("/")
    if parts[0] != "classifier":
      continue
    node = tree[collection]
    for key in parts[1:-1]:
      node = node.setdefault(key, {})
    node[parts[-1]] = np.asarray(value)
  return tree


def output_classes(classifier: dict) -> int:
  """Number of classes the head of `read_classifier`'s classifier predicts (0: no head)."""
  head = classifier["params"].get("head", {})
  dense = [k for k in head if k.startswith("Dense_")]
  if not dense:
    return 0
  return head[max(dense, key=lambda k: int(k.split("_")[-1]))]["kernel"].shape[-1]


def init_from_pretrained(variables: dict, pretrained: dict, skip=()) -> tuple[dict, dict]:
  """Copies `pretrained` arrays into `variables`, except names matching `skip`.

  Args:
    variables: {"params": tree, "batch_stats": tree} freshly initialised.
    pretrained: flat {"params/classifier/backbone/Conv_0/kernel": array, ...}.
    skip: regexes searched in names without the collection, e.g. "head/Dense_2"
      for a new output layer; those leaves keep their fresh initialisation.

  Returns:
    (variables, report) with report = {"loaded", "skipped", "new", "unused"}:
    lists of names (`new`: absent from the checkpoint, freshly initialised;
    `unused`: in the checkpoint but not in the model).

  Raises:
    ConfigError naming the parameter whose shape differs from the checkpoint's.
  """
  report = {"loaded": [], "skipped": [], "new": [], "unused": []}

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
  used = set(report["loaded"]) | set(report["skipped"])
  report["unused"] = sorted(name for name in pretrained if name not in used)
  return out, report

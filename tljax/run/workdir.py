"""A run's workdir: one writer at a time (a lock), and the same-config check on resume."""

import contextlib
import fcntl
import json
import os
import socket

from tljax import files
from tljax.errors import ConfigError, DataError
from tljax.upgrade import upgrade

LOCK = ".lock"


def segment(value) -> str:
  """`value` as one safe directory name: path separators and the NUL byte become '_'.

  Dataset names like sentiment/tweets -> sentiment_tweets; folder:../x -> folder_.._x
  (one name, never a step up); '' and '.'/'..' alone get a leading '_'.
  """
  name = str(value).replace("/", "_").replace(os.sep, "_").replace("\x00", "_")
  return "_" + name if name in ("", ".", "..") else name


def default_workdir(config) -> str:
  """runs/<source>_to_<target>/<method>/seed<seed>, each part one safe directory name; with
  several seeds in one run (`train.num_seeds`), runs/<source>_to_<target>/<method>."""
  pair = segment(f"{config.data.source}_to_{config.data.target}")
  if config.train.get("num_seeds", 1) > 1:
    return os.path.join("runs", pair, segment(config.method.name))
  return os.path.join("runs", pair, segment(config.method.name), f"seed{config.seed}")


@contextlib.contextmanager
def locked(workdir: str):
  """Holds an exclusive lock on `workdir` (creating it), or raises ConfigError naming the holder.

  `fcntl.flock` on `workdir/.lock`: the kernel releases it when the holder
  exits, however it exits, so a crashed run never leaves the workdir locked.
  The file keeps the holder's pid and host for the message. A lock that is a
  symbolic link is refused, never followed (it could point at any file the
  user can write); a workdir that is not a directory or cannot be written is
  a one-line error.
  """
  if os.path.lexists(workdir) and not os.path.isdir(workdir):
    raise ConfigError(f"workdir {workdir} is not a directory; give another --workdir")
  path = os.path.join(workdir, LOCK)
  try:
    os.makedirs(workdir, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
  except OSError as e:
    if os.path.islink(path):
      raise ConfigError(
        f"workdir {workdir}: its lock {path} is a symbolic link; tljax never follows one "
        "(remove it)"
      ) from None
    raise ConfigError(
      f"workdir {workdir} cannot be written ({e.strerror}); give another --workdir"
    ) from None
  try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
    os.close(fd)
    raise ConfigError(
      f"workdir {workdir} is in use by {holder} (lock {path}); wait for that run to end, "
      "or use another --workdir"
    ) from None
  try:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode(), 0)
    yield
  finally:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def _differences(old: dict, new: dict, prefix: str = "") -> list[str]:
  """'optim.lr: 0.01 -> 0.02' for every leaf that differs between two dicts."""
  out = []
  for key in sorted(set(old) | set(new)):
    a, b = old.get(key), new.get(key)
    if isinstance(a, dict) and isinstance(b, dict):
      out += _differences(a, b, f"{prefix}{key}.")
    elif a != b:
      out.append(f"{prefix}{key}: {a!r} -> {b!r}")
  return out


def check_workdir_config(
  config,
  workdir: str,
  allow_config_change: bool,
  fix: str = "use another --workdir, or --allow_config_change to resume it anyway",
) -> None:
  """Refuses to resume (or reuse) a workdir that holds a run of another config."""
  path = os.path.join(workdir, "config.json")
  if allow_config_change or not os.path.exists(path):
    return
  old = files.read_json(path)
  if old is None:
    raise DataError(
      f"{path} cannot be read (see the warning above); it records the run in {workdir}: "
      "restore it, or use another --workdir"
    )
  new = json.loads(json.dumps(config.to_dict()))  # Tuples -> lists, as on disk.
  old = upgrade(old)
  if isinstance(old.get("method"), dict):  # Methods added since have no say in an older run.
    old["method"] = {
      **{k: v for k, v in new["method"].items() if k not in old["method"]},
      **old["method"],
    }
  diffs = _differences(old, new)
  if diffs:
    raise ConfigError(
      f"workdir {workdir} holds a run of another config ({'; '.join(diffs[:3])}); {fix}"
    )


PROGRESS = "progress.json"
KEEP = 4  # Entries kept: more than the checkpoints orbax keeps (2).


def read_progress(workdir: str, step: int | None) -> dict:
  """What the run had recorded when it saved the checkpoint of `step` ({} if nothing).

  {"elapsed_seconds", "warnings", "monitor", "topology", "versions", "git_commit"}:
  what a resumed run continues from, rather than from zero.
  """
  path = os.path.join(workdir, PROGRESS)
  if step is None or not os.path.exists(path):
    return {}
  return ((files.read_json(path) or {}).get("by_step") or {}).get(str(step), {})


def write_progress(workdir: str, step: int, entry: dict) -> None:
  """Records `entry` for the checkpoint of `step` (atomically; the newest KEEP steps stay)."""
  path = os.path.join(workdir, PROGRESS)
  by_step = ((files.read_json(path) if os.path.exists(path) else None) or {}).get("by_step", {})
  by_step[str(step)] = entry
  newest = sorted(by_step, key=int)[-KEEP:]
  files.write_json(path, {"by_step": {k: by_step[k] for k in newest}})

"""Files a reader can trust: whole or absent, never half-written; bad ones named, not fatal.

Every file tljax writes for others to read (config.json, results.json,
summaries, features, plots) goes through `replacing`: a uniquely named
temporary file in the same directory (created exclusively, never through a
link), flushed and fsynced, given the mode a plain `open` would give it
(0666 less the umask: readable by the other users of a shared file system
where the umask allows), then renamed over the target with `os.replace`,
which is atomic on POSIX file systems. A crash leaves the old file or the
new one, and two writers never share a temporary name. Standard library only
(the benchmarks import it where JAX is absent).
"""

import contextlib
import json
import logging
import os
import re
import tempfile
import threading

log = logging.getLogger("tljax")


_UMASK_LOCK = threading.Lock()


def umask() -> int:
  """The process's umask (read by setting it back at once, under a lock)."""
  with _UMASK_LOCK:
    mask = os.umask(0o022)
    os.umask(mask)
  return mask


@contextlib.contextmanager
def replacing(path: str):
  """Yields a temporary path beside `path`; on success it is fsynced and renamed to `path`."""
  directory = os.path.dirname(os.path.abspath(path))
  fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
  os.close(fd)
  try:
    yield tmp
    with open(tmp, "rb+") as f:
      os.fsync(f.fileno())
      os.fchmod(f.fileno(), 0o666 & ~umask())  # mkstemp's 0600 would hide results from others.
    os.replace(tmp, path)
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)


def write_text(path: str, text: str) -> None:
  with replacing(path) as tmp, open(tmp, "w") as f:
    f.write(text)


# A list holding no list or object, spread over lines by json.dumps(indent=2).
_FLAT_LIST = re.compile(r"\[\n\s*([^\[\]{}]*?)\n\s*\]")


def json_text(obj) -> str:
  """`obj` as JSON indented by two, each list of plain values on one line (a long run's
  per-batch series stays a few hundred KB instead of a line per number). JSON escapes
  newlines inside strings, so only the layout's newlines are joined."""
  text = json.dumps(obj, indent=2)
  return _FLAT_LIST.sub(lambda m: "[" + re.sub(r",\n\s*", ", ", m.group(1)) + "]", text)


def write_json(path: str, obj) -> None:
  with replacing(path) as tmp, open(tmp, "w") as f:
    f.write(json_text(obj))


def read_json(path: str) -> dict | None:
  """The JSON object in `path`, or None with a warning naming the file if it cannot be read."""
  try:
    with open(path) as f:
      return json.load(f)
  except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
    log.warning("warning: skipping %s: %s: %s", path, type(e).__name__, e)
    return None

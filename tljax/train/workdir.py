"""A run's workdir: its config.json, atomic JSON writes, and the same-config check."""

import json
import os

from tljax.errors import ConfigError


def write_json(path: str, obj) -> None:
  """Writes `obj` as JSON to `path` through a temporary file and a rename."""
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(obj, f, indent=2)
  os.replace(tmp, path)


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


def check_workdir_config(config, workdir: str, allow_config_change: bool) -> None:
  """Refuses to resume a workdir that holds a run of another config."""
  path = os.path.join(workdir, "config.json")
  if allow_config_change or not os.path.exists(path):
    return
  with open(path) as f:
    old = json.load(f)
  new = json.loads(json.dumps(config.to_dict()))  # Tuples -> lists, as on disk.
  diffs = _differences(old, new)
  if diffs:
    raise ConfigError(
      f"workdir {workdir} holds a run of another config ({'; '.join(diffs[:3])}); "
      "use another --workdir, or --allow_config_change to resume it anyway"
    )

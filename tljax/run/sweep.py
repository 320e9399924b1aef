"""A grid of one config (e.g. methods x seeds): its points, their run directories, the summary.

`experiments.sweep` trains each point in WORKDIR/<key>=<value>/...; these
functions parse `--grid key=v1,v2` specs, name the directories and write the
sweep's summary.md.
"""

import itertools
import os

from tljax import files, nested
from tljax.analysis import runs as runs_lib
from tljax.analysis import tables
from tljax.errors import ConfigError
from tljax.run import workdir


def directory_name(value) -> str:
  """A grid value as one path segment: dataset names like sentiment/tweets -> sentiment_tweets."""
  return workdir.segment(value)


def parse_grid(specs: list[str], config) -> list[tuple[str, list]]:
  """[('method.name', ['dann', ...]), ...] with values cast to the field's type."""
  if not specs:
    raise ConfigError("give at least one --grid key=v1,v2,... (e.g. --grid seed=0,1,2)")
  grid = []
  for spec in specs:
    key, _, values = spec.partition("=")
    try:
      current = get_field(config, key)
    except (KeyError, AttributeError):
      raise ConfigError(f"--grid {spec!r}: config has no field {key!r}") from None
    if not values:
      raise ConfigError(f"--grid {spec!r}: give values as {key}=v1,v2,...")
    cast = type(current) if current is not None else str
    if cast is bool:
      cast = lambda v: v.lower() in ("1", "true", "yes")  # noqa: E731
    names = [directory_name(v) for v in values.split(",")]
    for value in values.split(","):  # Each value names a directory under --workdir.
      if not value or value in (".", "..") or "\x00" in value:
        raise ConfigError(f"--grid {spec!r}: {value!r} cannot name a run directory")
    if len(set(names)) < len(names):
      raise ConfigError(f"--grid {spec!r}: two values name the same run directory ({names})")
    try:
      grid.append((key, [cast(v) for v in values.split(",")]))
    except ValueError:
      raise ConfigError(
        f"--grid {spec!r}: every value must be a {cast.__name__}, as config.{key} is"
      ) from None
  return grid


def get_field(config, dotted: str):
  for part in dotted.split("."):
    config = config[part]
  return config


def set_field(config, dotted: str, value) -> None:
  *parents, leaf = dotted.split(".")
  for part in parents:
    config = config[part]
  config[leaf] = value


def points(config, grid):
  """(run directory name, config) for every point of the grid's product."""
  keys = [k for k, _ in grid]
  for values in itertools.product(*[v for _, v in grid]):
    point = config.copy_and_resolve_references()
    with point.unlocked():
      for key, value in zip(keys, values):
        set_field(point, key, value)
    yield os.path.join(*[f"{k}={directory_name(v)}" for k, v in zip(keys, values)]), point


def vectorised_points(config, grid):
  """(run directory, config, seeds' directories) per setting of the non-seed keys, the seeds
  trained in one program (`train.num_seeds`): the grid's last key must be `seed`
  with consecutive values, so the seeds' runs land where `points` would put them."""
  if not grid or grid[-1][0] != "seed":
    raise ConfigError("vectorised seeds need --grid seed=... as the last --grid")
  values = grid[-1][1]
  if values != list(range(values[0], values[0] + len(values))):
    raise ConfigError(f"vectorised seeds need consecutive seeds (e.g. 0,1,2), not {values}")
  settings = (
    points(config, grid[:-1]) if grid[:-1] else [("", config.copy_and_resolve_references())]
  )
  for name, point in settings:
    with point.unlocked():
      point.seed, point.train.num_seeds = values[0], len(values)
    yield name, point, [f"seed={directory_name(v)}" for v in values]


def also_varied(found, group_by) -> list[str]:
  """Config fields outside `group_by` (and the seed) whose values differ between the runs found:
  runs of another sweep under the same root (another step budget, say) get rows of their own
  instead of counting as more seeds of a setting."""
  flat = [nested.flatten(run.config, sep=".") for run in found]
  keys = sorted(set().union(*flat)) if flat else []
  skip = {*group_by, "seed", "train.num_seeds"}
  return [k for k in keys if k not in skip and len({repr(f.get(k)) for f in flat}) > 1]


def summarize(root: str, grid, diverged=()) -> str:
  """summary.md of the sweep in `root`: the accuracy table, the label-free picks, and the
  points that diverged (`diverged`: their run directories), which have no result."""
  group_by = [k for k, _ in grid if k != "seed"] or ["method.name"]
  found = runs_lib.find([root])
  group_by += also_varied(found, group_by)
  text = tables.summary_table(found, group_by) if found else "(no finished run)"
  if diverged:
    text += "\n\nDiverged (training stopped on a non-finite loss; no result):\n\n"
    text += "\n".join(f"- `{os.path.relpath(d, root)}`" for d in diverged)
  if any(r.results.get("validators") for r in found):
    text += "\n\nSettings picked without target labels (final checkpoints, per source, target "
    text += "and seed; oracle rows labelled):\n\n"
    text += tables.validator_table(found, group_by)
  files.write_text(os.path.join(root, "summary.md"), text + "\n")
  return text

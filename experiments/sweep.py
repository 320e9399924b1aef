"""Runs a grid of one config (e.g. methods x seeds) and tabulates it.

    python -m experiments.sweep --config configs/dann_mnist_mnistm.py \\
        --config.data.manual_dir=../shared/data/mnist --workdir runs/mnist_mnistm \\
        --grid method.name=source_only,dann,target_only --grid seed=0,1,2

Each point of the grid trains in WORKDIR/<key>=<value>/... (a rerun resumes
unfinished points and skips finished ones), then WORKDIR/summary.md gets one
row per setting of the non-seed keys: target test accuracy as mean ± sample
std over seeds, of the final checkpoint (never selected on target labels).
With `--config.data.source_val_size=N`, it also gets a table of the setting
each label-free validator picks per seed, next to the oracle's pick.
"""

import itertools
import logging
import os
import sys

from absl import app, flags

from experiments import cli, summarize
from experiments.grid_names import directory_name
from tljax import files

_WORKDIR = flags.DEFINE_string("workdir", None, "Root of the sweep's run directories.")
_GRID = flags.DEFINE_multi_string(
  "grid", [], "key=v1,v2,... over a config field (dotted); repeat for a product."
)
flags.mark_flags_as_required(["workdir"])


def parse_grid(specs: list[str], config) -> list[tuple[str, list]]:
  """[('method.name', ['dann', ...]), ...] with values cast to the field's type."""
  from tljax.errors import ConfigError  # pylint: disable=g-import-not-at-top

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
    grid.append((key, [cast(v) for v in values.split(",")]))
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


def main(argv):
  del argv
  cli.start()
  log = logging.getLogger("tljax")
  config = cli.CONFIG.value
  grid = cli.exit_on_user_error(parse_grid, _GRID.value, config)
  runs = list(points(config, grid))
  for i, (name, point) in enumerate(runs):
    workdir = os.path.join(_WORKDIR.value, name)
    if summarize.finished(workdir):  # Reused only if it is this very point's run.
      from tljax.train import workdir as workdir_lib  # pylint: disable=g-import-not-at-top

      fix = "move it away, or give the sweep another --workdir"
      cli.exit_on_user_error(workdir_lib.check_workdir_config, point, workdir, False, fix)
      log.info("[%d/%d] %s: finished earlier, skipped", i + 1, len(runs), workdir)
      continue
    log.info("[%d/%d] %s", i + 1, len(runs), name)
    cli.train(point, workdir)
  group_by = [k for k, _ in grid if k != "seed"] or ["method.name"]
  results = summarize.load_results([_WORKDIR.value])
  text = summarize.table(results, group_by)
  if any(r.get("validators") for _, r in results):
    text += "\n\nSettings picked without target labels (final checkpoints):\n\n"
    text += summarize.validator_table(results, group_by)
  files.write_text(os.path.join(_WORKDIR.value, "summary.md"), text + "\n")
  print(text)
  print(f"wrote {os.path.join(_WORKDIR.value, 'summary.md')}", file=sys.stderr)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)

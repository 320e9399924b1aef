"""Runs a grid of one config (e.g. methods x seeds) and tabulates it.

    python -m experiments.sweep --config configs/mnist_mnistm.py \\
        --config.data.manual_dir=../shared/data/mnist --workdir runs/mnist_mnistm \\
        --grid method.name=source_only,dann,target_only --grid seed=0,1,2

Each point of the grid trains in WORKDIR/<key>=<value>/... (a rerun resumes
unfinished points and skips finished ones), then WORKDIR/summary.md gets one
row per setting of the non-seed keys: target test accuracy as mean ± sample
std over seeds, of the final checkpoint (never selected on target labels).
With `--config.data.source_val_size=N`, it also gets a table of the setting
each label-free validator picks per seed, next to the oracle's pick.
"""

import logging
import os
import sys

from absl import app, flags

from tljax.analysis import runs as runs_lib
from tljax.run import cli, sweep

_GRID = flags.DEFINE_multi_string(
  "grid", [], "key=v1,v2,... over a config field (dotted); repeat for a product."
)
_VECTORISE = flags.DEFINE_bool(
  "vectorise_seeds",
  False,
  "Train each setting's seeds (the last --grid, seed=a,a+1,...) in one process and one "
  "compiled program (config.train.num_seeds, config.train.seeds_program); the run "
  "directories stay the same.",
)


def main(argv):
  del argv
  cli.start()
  log = logging.getLogger("tljax")
  config, root = cli.CONFIG.value, cli.WORKDIR.value
  if not root:
    sys.exit("error: give --workdir, the root of the sweep's run directories")
  grid = cli.exit_on_user_error(sweep.parse_grid, _GRID.value, config)
  if _VECTORISE.value:
    diverged = _vectorised(config, root, grid, log)
    print(sweep.summarize(root, grid, diverged))
    print(f"wrote {os.path.join(root, 'summary.md')}", file=sys.stderr)
    if diverged:
      sys.exit(f"error: {len(diverged)} settings diverged (listed in summary.md)")
    return
  runs = list(sweep.points(config, grid))
  diverged = []
  for i, (name, point) in enumerate(runs):
    workdir = os.path.join(root, name)
    if runs_lib.finished(workdir):  # Reused only if it is this very point's run.
      from tljax.run import workdir as workdir_lib  # pylint: disable=g-import-not-at-top

      fix = "move it away, or give the sweep another --workdir"
      cli.exit_on_user_error(workdir_lib.check_workdir_config, point, workdir, False, fix)
      log.info("[%d/%d] %s: finished earlier, skipped", i + 1, len(runs), workdir)
      continue
    log.info("[%d/%d] %s", i + 1, len(runs), name)
    if cli.train(point, workdir, exit_on_divergence=False) is None:
      diverged.append(workdir)
  print(sweep.summarize(root, grid, diverged))
  print(f"wrote {os.path.join(root, 'summary.md')}", file=sys.stderr)
  if diverged:
    sys.exit(f"error: {len(diverged)} of {len(runs)} runs diverged (listed in summary.md)")


def _vectorised(config, root, grid, log) -> list[str]:
  """Each setting's seeds in one program; the settings whose training diverged."""
  groups = cli.exit_on_user_error(lambda: list(sweep.vectorised_points(config, grid)))
  diverged = []
  for i, (name, point, seed_dirs) in enumerate(groups):
    workdir = os.path.join(root, name) if name else root
    if all(runs_lib.finished(os.path.join(workdir, d)) for d in seed_dirs):
      log.info("[%d/%d] %s: every seed finished earlier, skipped", i + 1, len(groups), workdir)
      continue
    log.info("[%d/%d] %s: seeds %s in one program", i + 1, len(groups), name, seed_dirs)
    if cli.train(point, workdir, exit_on_divergence=False) is None:
      diverged.append(workdir)
  return diverged


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)

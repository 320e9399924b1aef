"""Trains DANN (or a baseline) from a config; writes WORKDIR/results.json.

    python -m experiments.dann --config configs/dann_digits.py [--workdir DIR] \
        [--config.method.name=source_only] [--config.seed=1]
"""

import logging
import os
import signal
import sys

from absl import app, flags

from experiments import cli

_WORKDIR = flags.DEFINE_string(
  "workdir",
  None,
  "Checkpoints, metrics and results go here; a rerun resumes. "
  "Default: runs/<source>_to_<target>/<method>/seed<seed>.",
)


_ALLOW_CONFIG_CHANGE = flags.DEFINE_bool(
  "allow_config_change",
  False,
  "Resume a workdir whose config.json differs from --config (normally refused).",
)


def default_workdir(config) -> str:
  return os.path.join(
    "runs",
    f"{config.data.source}_to_{config.data.target}",
    config.method.name,
    f"seed{config.seed}",
  )


def main(argv):
  del argv
  cli.start()
  from tljax.train import loop  # pylint: disable=g-import-not-at-top

  config = cli.CONFIG.value
  workdir = _WORKDIR.value or default_workdir(config)
  log = logging.getLogger("tljax")
  log.info("workdir: %s", workdir)
  try:
    cli.exit_on_user_error(loop.train_and_evaluate, config, workdir, _ALLOW_CONFIG_CHANGE.value)
  except loop.Preempted as e:
    log.warning("%s; checkpoint saved in %s; rerun the same command to resume", e, workdir)
    sys.exit(0 if e.signum == signal.SIGTERM else 128 + e.signum)
  except FloatingPointError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  app.run(main)

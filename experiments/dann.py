"""Trains DANN (or a baseline) from a config; writes WORKDIR/results.json.

    python -m experiments.dann --config configs/dann_digits.py [--workdir DIR] \
        [--config.method.name=source_only] [--config.seed=1]
"""

import os

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
  config = cli.CONFIG.value
  cli.train(config, _WORKDIR.value or default_workdir(config), _ALLOW_CONFIG_CHANGE.value)


if __name__ == "__main__":
  app.run(main)

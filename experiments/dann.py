"""Trains DANN (or a baseline) from a config; writes WORKDIR/results.json.

    python -m experiments.dann --config configs/digits.py [--workdir DIR] \
        [--config.method.name=source_only] [--config.seed=1]

Checkpoints, metrics and results go to --workdir (default:
runs/<source>_to_<target>/<method>/seed<seed>); a rerun resumes.
"""

from absl import app, flags

from tljax.run import cli
from tljax.run import workdir as workdir_lib

_ALLOW_CONFIG_CHANGE = flags.DEFINE_bool(
  "allow_config_change",
  False,
  "Resume a workdir whose config.json differs from --config (normally refused).",
)
_ALLOW_RESTART = flags.DEFINE_bool(
  "allow_restart",
  False,
  "Train from step 0 when the workdir's checkpoints all fail to decode (normally refused; "
  "the damaged ones are kept in checkpoints_unreadable/).",
)


def main(argv):
  del argv
  cli.start()
  config = cli.CONFIG.value
  workdir = cli.WORKDIR.value or workdir_lib.default_workdir(config)
  cli.train(config, workdir, _ALLOW_CONFIG_CHANGE.value, allow_restart=_ALLOW_RESTART.value)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)

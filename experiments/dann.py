"""Trains DANN (or a baseline) from a config; writes WORKDIR/results.json.

    python -m experiments.dann --config configs/dann_digits.py [--workdir DIR] \
        [--config.method.name=source_only] [--config.seed=1]
"""

import logging as std_logging
import os
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from tljax import errors, xla_cpu

_CONFIG = config_flags.DEFINE_config_file(
  "config", None, "Experiment config file (configs/*.py).", lock_config=True
)
_WORKDIR = flags.DEFINE_string(
  "workdir",
  None,
  "Checkpoints, metrics and results go here; a rerun resumes. Default: "
  "runs/<source>_to_<target>/<method>/seed<seed>.",
)
_FAST_CPU = flags.DEFINE_bool(
  "xla_cpu_fast",
  True,
  f"Add {xla_cpu.FAST_FLAG} to XLA_FLAGS (about 3x faster convolutions on "
  "CPU; no effect on GPU/TPU). --noxla_cpu_fast turns it off.",
)
_VERBOSE = flags.DEFINE_bool("verbose", False, "Show tracebacks for config/data errors.")
flags.mark_flags_as_required(["config"])


def default_workdir(config) -> str:
  return os.path.join(
    "runs",
    f"{config.data.source}_to_{config.data.target}",
    config.method.name,
    f"seed{config.seed}",
  )


def configure_logging() -> None:
  """tljax progress lines on stderr; other libraries' INFO chatter hidden."""
  logging.set_verbosity(logging.WARNING)
  handler = std_logging.StreamHandler()
  handler.setFormatter(std_logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
  tljax_log = std_logging.getLogger("tljax")
  tljax_log.handlers[:] = [handler]
  tljax_log.setLevel(std_logging.INFO)
  tljax_log.propagate = False


def main(argv):
  del argv
  if _FAST_CPU.value:
    xla_cpu.enable_fast_flags()  # Before JAX starts its backend.
  from tljax.train import loop  # pylint: disable=g-import-not-at-top

  configure_logging()
  config = _CONFIG.value
  workdir = _WORKDIR.value or default_workdir(config)
  std_logging.getLogger("tljax").info("workdir: %s", workdir)
  try:
    loop.train_and_evaluate(config, workdir)
  except (errors.ConfigError, errors.DataError) as e:
    if _VERBOSE.value:
      raise
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  app.run(main)

"""Flags and start-up shared by the experiment entry points."""

import logging as std_logging
import sys

from absl import flags, logging
from ml_collections import config_flags

from tljax import errors, xla_cpu

CONFIG = config_flags.DEFINE_config_file(
  "config", None, "Experiment config file (configs/*.py).", lock_config=True
)
FAST_CPU = flags.DEFINE_bool(
  "xla_cpu_fast",
  True,
  f"Add {xla_cpu.FAST_FLAG} to XLA_FLAGS (about 3x faster convolutions on XLA:CPU; "
  "ignored on GPU/TPU). --noxla_cpu_fast turns it off.",
)
VERBOSE = flags.DEFINE_bool("verbose", False, "Show tracebacks for config and data errors.")
flags.mark_flags_as_required(["config"])


def configure_logging() -> None:
  """tljax progress lines on stderr; other libraries' INFO chatter hidden."""
  logging.set_verbosity(logging.WARNING)
  handler = std_logging.StreamHandler()
  handler.setFormatter(std_logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
  tljax_log = std_logging.getLogger("tljax")
  tljax_log.handlers[:] = [handler]
  tljax_log.setLevel(std_logging.INFO)
  tljax_log.propagate = False


def start() -> None:
  """Call first in main(): XLA flags (before JAX starts its backend), logging."""
  if FAST_CPU.value:
    xla_cpu.enable_fast_flags()
  configure_logging()


def exit_on_user_error(fn, *args):
  """Runs fn(*args); a ConfigError/DataError becomes one line and exit 2."""
  try:
    return fn(*args)
  except (errors.ConfigError, errors.DataError) as e:
    if VERBOSE.value:
      raise
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)

"""Flags and start-up shared by the experiment entry points."""

import logging as std_logging
import signal
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
  f"On CPU: add {xla_cpu.FAST_FLAG} to XLA_FLAGS (about 3x faster convolutions) and keep "
  "freed host memory for the next step (no page faults on big buffers; see tljax/xla_cpu.py). "
  "The flag is ignored on GPU/TPU. --noxla_cpu_fast turns both off.",
)
VERBOSE = flags.DEFINE_bool("verbose", False, "Show tracebacks for config and data errors.")
DISTRIBUTED = flags.DEFINE_bool(
  "distributed",
  False,
  "Call jax.distributed.initialize() before anything else: JAX detects SLURM, "
  "Open MPI and Cloud TPU VM environments. Implied by --coordinator_address.",
)
COORDINATOR = flags.DEFINE_string(
  "coordinator_address", None, "host:port of process 0, for clusters JAX does not detect."
)
NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "With --coordinator_address.")
PROCESS_ID = flags.DEFINE_integer("process_id", None, "With --coordinator_address.")
flags.mark_flags_as_required(["config"])


def configure_logging(primary: bool = True) -> None:
  """tljax progress lines on stderr (process 0 only); other libraries' INFO hidden."""
  logging.set_verbosity(logging.WARNING)
  handler = std_logging.StreamHandler()
  handler.setFormatter(std_logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
  tljax_log = std_logging.getLogger("tljax")
  tljax_log.handlers[:] = [handler]
  tljax_log.setLevel(std_logging.INFO if primary else std_logging.WARNING)
  tljax_log.propagate = False


def start() -> None:
  """Call first in main(): XLA flags (before JAX starts), multi-host, logging."""
  if FAST_CPU.value:
    xla_cpu.enable_fast_flags()
  import jax  # pylint: disable=g-import-not-at-top

  if DISTRIBUTED.value or COORDINATOR.value:
    jax.distributed.initialize(
      coordinator_address=COORDINATOR.value,
      num_processes=NUM_PROCESSES.value,
      process_id=PROCESS_ID.value,
    )
  if FAST_CPU.value:
    _keep_freed_memory_on_cpu()
  configure_logging(primary=jax.process_index() == 0)


def start_analysis(fast_cpu: bool = True) -> None:
  """start() for the argparse tools that analyse finished runs (one process)."""
  if fast_cpu:
    xla_cpu.enable_fast_flags()
    _keep_freed_memory_on_cpu()
  configure_logging()


def _keep_freed_memory_on_cpu() -> None:
  import jax  # pylint: disable=g-import-not-at-top

  if jax.default_backend() == "cpu":
    xla_cpu.keep_freed_host_memory()


def exit_on_user_error(fn, *args):
  """Runs fn(*args); a ConfigError/DataError becomes one line and exit 2."""
  try:
    return fn(*args)
  except (errors.ConfigError, errors.DataError) as e:
    if VERBOSE.value:
      raise
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


def train(config, workdir: str, allow_config_change: bool = False, data=None) -> dict:
  """loop.train_and_evaluate with user errors, preemption and divergence as exits."""
  from tljax.train import loop  # pylint: disable=g-import-not-at-top

  log = std_logging.getLogger("tljax")
  log.info("workdir: %s", workdir)
  try:
    return exit_on_user_error(loop.train_and_evaluate, config, workdir, allow_config_change, data)
  except loop.Preempted as e:
    log.warning("%s; checkpoint saved in %s; rerun the same command to resume", e, workdir)
    sys.exit(0 if e.signum == signal.SIGTERM else 128 + e.signum)
  except FloatingPointError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)

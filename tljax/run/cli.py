"""Flags and start-up shared by the experiment entry points."""

import logging as std_logging
import os
import signal
import sys

from absl import flags, logging
from ml_collections import config_flags

from tljax import errors, xla_cpu

CONFIG = config_flags.DEFINE_config_file(
  "config", None, "Experiment config file (configs/*.py).", lock_config=True
)
WORKDIR = flags.DEFINE_string(
  "workdir", None, "Where the command writes (see its docstring for the default)."
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


# Exit status of a run stopped by SIGTERM after saving a checkpoint: EX_TEMPFAIL
# ("try again"), so schedulers, `&&` chains and sweeps do not take it for success.
PREEMPTED = 75


def parse_flags(argv: list[str]) -> list[str]:
  """absl's flag parsing, where a bad --config file or --config.* field is one line and exit 2.

  Pass as `app.run(main, flags_parser=cli.parse_flags)`. Loads the config
  here (rather than at first use) so that its errors are caught here too.
  """
  try:
    rest = flags.FLAGS(argv)
    if "config" in flags.FLAGS and flags.FLAGS["config"].present:
      flags.FLAGS["config"].value.to_dict()  # Loading errors surface on first use: force it.
    return rest
  except Exception as e:  # pylint: disable=broad-except  (absl's and ml_collections' own errors)
    print(f"error: {_flag_error(e, argv)}", file=sys.stderr)
    sys.exit(2)


def _flag_error(error: Exception, argv: list[str]) -> str:
  """One line for a flag error: the unknown config field and its nearest names, if that is it."""
  import difflib  # pylint: disable=g-import-not-at-top

  config = _config_without_overrides(argv)
  if config is not None:
    fields = _dotted_fields(config.to_dict())
    for arg in argv[1:]:
      name = arg.split("=", 1)[0].lstrip("-")
      if name.startswith("config.") and name[len("config.") :] not in fields:
        field = name[len("config.") :]
        near = difflib.get_close_matches(field, fields, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(f'--config.{n}' for n in near)}?" if near else ""
        return f"--{name}: the config has no field {field!r}{hint}"
  lines = [line.strip() for line in str(error).splitlines() if line.strip()]
  detail = lines[-1] if lines else type(error).__name__
  if isinstance(error, OSError) and "config" in str(error):
    return f"cannot load --config {_config_arg(argv)}: {detail}"
  return detail


def _config_arg(argv: list[str]) -> str | None:
  """The value of --config (FILE[:ARG]) in `argv`."""
  for i, arg in enumerate(argv):
    if arg.startswith("--config="):
      return arg.split("=", 1)[1]
    if arg == "--config" and i + 1 < len(argv):
      return argv[i + 1]
  return None


def _config_without_overrides(argv: list[str]):
  """get_config(ARG) of the --config file, for naming its fields (None if it does not load)."""
  import importlib.util  # pylint: disable=g-import-not-at-top

  spec = _config_arg(argv)
  if not spec:
    return None
  path, _, arg = spec.partition(":")
  try:
    module_spec = importlib.util.spec_from_file_location("tljax_config_for_errors", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.get_config(arg or None)
  except Exception:  # pylint: disable=broad-except  (then the plain error message is shown)
    return None


def _dotted_fields(tree: dict, prefix: str = "") -> list[str]:
  out = []
  for key, value in tree.items():
    out.append(prefix + key)
    if isinstance(value, dict):
      out += _dotted_fields(value, f"{prefix}{key}.")
  return out


def configure_logging(primary: bool = True) -> None:
  """tljax progress lines on stderr (process 0 only); other libraries' INFO hidden."""
  logging.set_verbosity(logging.WARNING)
  handler = std_logging.StreamHandler()
  handler.setFormatter(std_logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
  tljax_log = std_logging.getLogger("tljax")
  tljax_log.handlers[:] = [handler]
  tljax_log.setLevel(std_logging.INFO if primary else std_logging.WARNING)
  tljax_log.propagate = False
  # A full disk: orbax's writer threads each log the error with a traceback; tljax says it once.
  std_logging.getLogger("absl").addFilter(lambda record: not _is_disk_full(record.getMessage()))


def _is_disk_full(text: str) -> bool:
  return "RESOURCE_EXHAUSTED" in text or "No space left" in text


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
  except (errors.ConfigError, errors.DataError, OSError) as e:
    if flags.FLAGS.is_parsed() and VERBOSE.value:
      raise
    hint = " (--verbose shows where)" if isinstance(e, OSError) else ""
    print(f"error: {e}{hint}", file=sys.stderr)
    if _is_disk_full(str(e)):  # orbax's broken writer threads would print tracebacks at exit.
      sys.stderr.flush()
      os._exit(2)  # pylint: disable=protected-access
    sys.exit(2)


def train(
  config,
  workdir: str,
  allow_config_change: bool = False,
  data=None,
  allow_restart: bool = False,
  exit_on_divergence: bool = True,
) -> dict | list | None:
  """loop.train_and_evaluate with user errors, preemption and divergence as exits; with
  `train.num_seeds` > 1, `seeds.train_and_evaluate` (seeds in WORKDIR/seed=<s>, their results).

  Without `exit_on_divergence` a diverged run is reported and None returned (a sweep goes on).
  """
  from tljax.run import loop  # pylint: disable=g-import-not-at-top

  log = std_logging.getLogger("tljax")
  log.info("workdir: %s", workdir)
  try:
    if config.train.get("num_seeds", 1) > 1:  # Several seeds in one program: a list of results.
      from tljax.run import seeds  # pylint: disable=g-import-not-at-top

      args = (config, workdir, allow_config_change, allow_restart)
      return exit_on_user_error(seeds.train_and_evaluate, *args)
    args = (config, workdir, allow_config_change, data, allow_restart)
    return exit_on_user_error(loop.train_and_evaluate, *args)
  except loop.Preempted as e:
    log.warning("%s; checkpoint saved in %s; rerun the same command to resume", e, workdir)
    sys.exit(PREEMPTED if e.signum == signal.SIGTERM else 128 + e.signum)
  except FloatingPointError as e:
    print(f"error: {e}", file=sys.stderr)
    if exit_on_divergence:
      sys.exit(1)
    return None

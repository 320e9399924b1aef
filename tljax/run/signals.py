"""Preemption: SIGTERM/SIGINT are noted by the loop, which saves and then raises `Preempted`."""

import contextlib
import signal


class Preempted(Exception):
  """SIGTERM or SIGINT arrived; a checkpoint of the current step was saved."""

  def __init__(self, signum: int, step: int, when: str = ""):
    super().__init__(f"stopped by signal {signum} at step {step}" + (f" {when}" if when else ""))
    self.signum, self.step = signum, step


def preempted(step: int, received: list) -> int | None:
  """The signal to stop on after `step`, agreed by every process (None: carry on).

  One process: any SIGTERM/SIGINT `noted` so far. Several processes: JAX's
  preemption service, which propagates a SIGTERM received by any process to
  all and names the same step on each
  (`multihost_utils.reached_preemption_sync_point`, to be called at every
  step); a SIGINT (Ctrl-C) stops only the process that got it.
  """
  import jax  # pylint: disable=g-import-not-at-top
  from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top

  if jax.process_count() > 1 and multihost_utils.reached_preemption_sync_point(step):
    return signal.SIGTERM
  return received[0] if received else None


def caught_signals() -> tuple:
  """SIGTERM is left to JAX's preemption service when there are several processes."""
  import jax  # pylint: disable=g-import-not-at-top

  return (signal.SIGINT,) if jax.process_count() > 1 else (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def noted(signals=(signal.SIGTERM, signal.SIGINT)):
  """Yields a list that collects the numbers of `signals` received meanwhile.

  The handlers only record the signal, so the loop finishes its step and
  checkpoints before stopping; the previous handlers are restored on exit.
  """
  received = []
  handler = lambda signum, frame: received.append(signum)  # noqa: E731
  previous = {sig: signal.signal(sig, handler) for sig in signals}
  try:
    yield received
  finally:
    for sig, old in previous.items():
      signal.signal(sig, old)

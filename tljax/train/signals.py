"""Preemption: SIGTERM/SIGINT are noted by the loop, which saves and then raises `Preempted`."""

import contextlib
import signal


class Preempted(Exception):
  """SIGTERM or SIGINT arrived; a checkpoint of the current step was saved."""

  def __init__(self, signum: int, step: int):
    super().__init__(f"stopped by signal {signum} at step {step}")
    self.signum, self.step = signum, step


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

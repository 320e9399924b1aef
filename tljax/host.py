"""What the machine has: memory, for checks that refuse work that cannot fit before it starts."""

import os


def memory_bytes() -> int | None:
  """This process's first device's memory (the host's RAM on a CPU), or None where unknown."""
  import jax  # pylint: disable=g-import-not-at-top

  device = jax.local_devices()[0]  # Addressable by this process (multi-host).
  stats = device.memory_stats() if hasattr(device, "memory_stats") else None
  if stats and stats.get("bytes_limit"):
    return int(stats["bytes_limit"])
  return ram_bytes()


def ram_bytes() -> int | None:
  """The host's physical memory, or None where the system does not say."""
  try:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
  except (ValueError, OSError, AttributeError):
    return None


def wait_for_all(name: str, timeout_s: float = 1800.0) -> None:
  """Blocks until every process reaches `name` (no-op with one process).

  Uses the coordination service's barrier, which waits `timeout_s` for the
  slowest process (process 0 preparing a dataset can take minutes), not a
  collective, whose CPU (gloo) context gives up after 30 s.
  """
  import jax  # pylint: disable=g-import-not-at-top

  if jax.process_count() == 1:
    return
  from jax._src import distributed  # pylint: disable=g-import-not-at-top

  client = distributed.global_state.client
  if client is None:  # Not started by jax.distributed.initialize: a collective it is.
    from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top

    multihost_utils.sync_global_devices(name)
    return
  client.wait_at_barrier(name, int(timeout_s * 1000))

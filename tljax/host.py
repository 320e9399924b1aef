"""What the machine has: memory, for checks that refuse work that cannot fit before it starts."""

import os


def memory_bytes() -> int | None:
  """The default JAX device's memory (the host's RAM on a CPU), or None where unknown."""
  import jax  # pylint: disable=g-import-not-at-top

  device = jax.devices()[0]
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

"""XLA:CPU speed settings, applied by the experiment entry points (not on import)."""

import ctypes
import os

# YNNPACK fusions for dots/convolutions on XLA:CPU: ~3x faster DANN digits
# steps on a 2-core CPU. Ignored by GPU/TPU backends.
FAST_FLAG = "--xla_cpu_experimental_ynn_fusion_type=dot"

# glibc mallopt() parameters (malloc.h) and how much freed heap to keep.
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
KEEP_FREED_BYTES = 1 << 30


def enable_fast_flags() -> None:
  """Appends FAST_FLAG to XLA_FLAGS unless the user already set a YNN flag.

  Must run before JAX initialises its backend (the first computation).
  """
  current = os.environ.get("XLA_FLAGS", "")
  if "xla_cpu_experimental_ynn" not in current:
    os.environ["XLA_FLAGS"] = f"{current} {FAST_FLAG}".strip()


def keep_freed_host_memory() -> bool:
  """Makes glibc reuse freed memory for XLA:CPU's per-step buffers.

  XLA:CPU mallocs each step's temporaries (about 50 MB for the digits step at
  128 + 128). glibc serves blocks over its mmap threshold (32 MB at most) with
  fresh pages and unmaps them on free, so every step page-faults them in
  again: ~12,900 faults a step, over a quarter of its time on a 2-core VM. With mmap
  off (M_MMAP_MAX = 0) and a 1 GiB trim threshold, big blocks come from the
  heap and stay there for the next step. The process keeps its peak heap.

  Returns whether it applied: not where the user tuned malloc (MALLOC_*
  variables, glibc.malloc tunables) or the C library has no mallopt (macOS).
  """
  tunables = os.environ.get("GLIBC_TUNABLES", "")
  if "glibc.malloc" in tunables or any(name.startswith("MALLOC_") for name in os.environ):
    return False
  mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
  if mallopt is None:
    return False
  return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, KEEP_FREED_BYTES))

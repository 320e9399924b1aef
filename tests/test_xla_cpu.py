"""The default XLA:CPU speed flag leaves the training maths unchanged."""

from tests.test_parallel import _assert_same_training, _wait, _worker
from tljax import xla_cpu


def test_fast_flag_matches_default_xla_on_the_digits_network(tmp_path):
  args = ["--modes", "single", "--model", "digits_net"]
  _wait(
    _worker(tmp_path, 1, *args, "--tag", "_plain"),
    _worker(tmp_path, 1, *args, "--tag", "_fast", extra_xla_flags=xla_cpu.FAST_FLAG),
  )
  # Other kernels, other float32 summation orders: equal to float tolerance.
  _assert_same_training(tmp_path / "single_1x1_plain.npz", tmp_path / "single_1x1_fast.npz")


def test_enable_fast_flags_keeps_user_flags(monkeypatch):
  monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
  xla_cpu.enable_fast_flags()
  import os  # pylint: disable=g-import-not-at-top

  assert os.environ["XLA_FLAGS"] == f"--xla_dump_to=/tmp/x {xla_cpu.FAST_FLAG}"
  monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_experimental_ynn_fusion_type=none")
  xla_cpu.enable_fast_flags()
  assert os.environ["XLA_FLAGS"] == "--xla_cpu_experimental_ynn_fusion_type=none"


_FAULTS_SCRIPT = """
import resource, sys
import numpy as np
from tljax import xla_cpu

applied = xla_cpu.keep_freed_host_memory() if sys.argv[1] == "keep" else None
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):  # 64 MB: above glibc's largest mmap threshold.
  np.ones(16 << 20, np.float32)
start = faults()
for _ in range(5):
  np.ones(16 << 20, np.float32)
print(applied, (faults() - start) / 5)
"""


def _faults_per_64mb_allocation(mode: str, **env) -> tuple[str, float]:
  import os  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top

  clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_"))}
  out = subprocess.run(
    [sys.executable, "-c", _FAULTS_SCRIPT, mode],
    env={**clean, "NUMPY_MADVISE_HUGEPAGE": "0", **env},  # Plain 4 KiB pages, as XLA's.
    capture_output=True,
    text=True,
    check=True,
  ).stdout.split()
  return out[0], float(out[1])


def test_keep_freed_host_memory_stops_page_faults_on_big_buffers():
  applied, kept = _faults_per_64mb_allocation("keep")
  _, plain = _faults_per_64mb_allocation("plain")
  pages = (64 << 20) // 4096
  # Plain glibc maps fresh pages for each 64 MB block (one fault per 4 KiB page
  # where transparent huge pages are off); kept, the block is reused.
  assert applied == "True"
  assert kept < 0.01 * pages, f"{kept} page faults per allocation (plain: {plain})"
  assert plain > 0.5 * pages or kept < plain


def test_keep_freed_host_memory_leaves_user_malloc_settings_alone():
  applied, _ = _faults_per_64mb_allocation("keep", MALLOC_ARENA_MAX="2")
  assert applied == "False"

"""The default XLA:CPU speed flag leaves the training maths unchanged."""

from tests.test_parallel import _assert_close, _wait, _worker
from tljax import xla_cpu


def test_fast_flag_matches_default_xla_on_the_digits_network(tmp_path):
  args = ["--modes", "single", "--model", "dann_digits"]
  _wait(
    _worker(tmp_path, 1, *args, "--tag", "_plain"),
    _worker(tmp_path, 1, *args, "--tag", "_fast", extra_xla_flags=xla_cpu.FAST_FLAG),
  )
  # Other kernels, other float32 summation orders: equal to float tolerance.
  _assert_close(tmp_path / "single_1x1_plain.npz", tmp_path / "single_1x1_fast.npz")


def test_enable_fast_flags_keeps_user_flags(monkeypatch):
  monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
  xla_cpu.enable_fast_flags()
  import os  # pylint: disable=g-import-not-at-top

  assert os.environ["XLA_FLAGS"] == f"--xla_dump_to=/tmp/x {xla_cpu.FAST_FLAG}"
  monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_experimental_ynn_fusion_type=none")
  xla_cpu.enable_fast_flags()
  assert os.environ["XLA_FLAGS"] == "--xla_cpu_experimental_ynn_fusion_type=none"

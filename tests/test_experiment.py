"""The command line: bad input gives a one-line error and exit status 2."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*overrides, tmp_path):
  cmd = [
    sys.executable,
    "-m",
    "experiments.dann",
    "--config",
    "configs/dann_digits.py:tiny",
    f"--workdir={tmp_path}/run",
    *overrides,
  ]
  return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
  "override,message",
  [
    ("--config.method.name=dan", "config.method.name='dan' is unknown"),
    ("--config.optim.lr=-0.1", "config.optim.lr=-0.1 must be > 0"),
    ("--config.data.source=mnist_x", "config.data.source='mnist_x' is unknown"),
    ("--config.model.name=resnet_x", "config.model.name='resnet_x' is unknown"),
    ("--config.data.manual_dir=/nonexistent/mnist", "/nonexistent/mnist does not exist"),
    ("--config.parallel=gpus", "config.parallel='gpus' is unknown"),
    ("--config.optim.name=lamb", "config.optim.name='lamb' is unknown"),
    ("--config.data.batch_size=0", "config.data.batch_size=0 must be > 0"),
    ("--config.model.dropout=1.5", "config.model.dropout=1.5 must be in [0, 1)"),
  ],
)
def test_bad_config_is_a_one_line_error(override, message, tmp_path):
  result = _run(override, tmp_path=tmp_path)
  assert result.returncode == 2, result.stderr
  lines = [l for l in result.stderr.splitlines() if l.startswith("error:")]
  assert len(lines) == 1 and message in lines[0], result.stderr
  assert "Traceback" not in result.stderr


def test_unknown_config_field_fails(tmp_path):
  result = _run("--config.optim.lrr=0.1", tmp_path=tmp_path)
  assert result.returncode != 0
  assert "lrr" in result.stderr

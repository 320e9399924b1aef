"""The scripts in examples/ run as documented (a few steps each)."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize(
  "script,args",
  [
    ("custom_loop.py", ["--method=mcc", "--steps=20", "--tiny"]),
    ("own_flax_module.py", ["--steps=20"]),
  ],
)
def test_example_runs_and_reports_target_accuracy(script, args, data_dir):
  cmd = [sys.executable, os.path.join("examples", script), *args, f"--data_dir={data_dir}"]
  result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  accuracy = float(re.search(r"target test accuracy (\d\.\d+)", result.stdout).group(1))
  assert 0.0 <= accuracy <= 1.0

"""pmap and sharded jit on 8 CPU devices, and 2 processes x 4 devices, match one device.

Not bit-exact: each device convolves and sums its 2-example shard before the
cross-device mean, so XLA picks other kernels and float32 summation orders
than for the 16-example batch on one device. After three steps the largest
parameter difference measured 8e-6 (parameters up to 1.1); the tolerance is
atol 5e-5, rtol 1e-4. A wrong reduction (e.g. a sum instead of a mean over
devices) is off by orders of magnitude more.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(devices: int, extra_xla_flags: str = "") -> dict:
  env = dict(os.environ)
  env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices} {extra_xla_flags}"
  env["JAX_PLATFORMS"] = "cpu"
  return env


def _worker(out, devices, *args, extra_xla_flags=""):
  cmd = [sys.executable, "-m", "tests.parallel_worker", "--out", str(out), *args]
  env = _env(devices, extra_xla_flags)
  return subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)


def _wait(*procs):
  for proc in procs:
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err[-3000:]


def _assert_close(a_path, b_path, atol=5e-5):
  a, b = np.load(a_path), np.load(b_path)
  assert sorted(a.files) == sorted(b.files) and len(a.files) > 4
  for name in a.files:
    np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=atol, err_msg=name)


def test_pmap_and_sharded_jit_match_single_device(tmp_path):
  _wait(_worker(tmp_path, 8, "--modes", "single,pmap,sharded"))
  _assert_close(tmp_path / "single_1x8.npz", tmp_path / "pmap_1x8.npz")
  _assert_close(tmp_path / "single_1x8.npz", tmp_path / "sharded_1x8.npz")


def test_two_processes_of_four_devices_match_one_of_eight(tmp_path):
  with socket.socket() as s:
    s.bind(("localhost", 0))
    port = s.getsockname()[1]
  common = ["--modes", "sharded", "--coordinator", f"localhost:{port}", "--num_processes", "2"]
  procs = [_worker(tmp_path, 4, *common, "--process_id", str(i)) for i in range(2)]
  single = _worker(tmp_path, 8, "--modes", "sharded")
  _wait(*procs, single)
  _assert_close(tmp_path / "sharded_2x4.npz", tmp_path / "sharded_1x8.npz")


def _two_process_cli(data_dir, workdir, *overrides) -> list[subprocess.Popen]:
  """The tiny config's CLI on 2 local processes x 2 CPU devices, sharded."""
  with socket.socket() as s:
    s.bind(("localhost", 0))
    port = s.getsockname()[1]
  procs = []
  for i in range(2):
    cmd = [
      sys.executable, "-m", "experiments.dann", "--config", "configs/digits.py:tiny",
      f"--config.data.data_dir={data_dir}", f"--workdir={workdir}", "--config.parallel=sharded",
      f"--coordinator_address=localhost:{port}", "--num_processes=2", f"--process_id={i}",
      *overrides,
    ]  # fmt: skip
    procs.append(subprocess.Popen(cmd, cwd=ROOT, env=_env(2), stderr=subprocess.PIPE, text=True))
  return procs


def test_two_process_run_reads_shards_and_evaluates_the_whole_test_split(data_dir, tmp_path):
  """The CLI on 2 processes x 2 devices: each reads half of every split, results cover all."""
  procs = _two_process_cli(
    data_dir, tmp_path, "--config.train.eval_every=6", "--config.train.ckpt_every=6"
  )
  logs = []
  for proc in procs:
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err[-3000:]
    logs.append(err)
  assert "process 0 of 2 reads shard 0 of every split: source_train 300, source_test 150" in logs[0]
  results = json.load(open(tmp_path / "results.json"))
  assert results["steps"] == 6
  # Each process evaluated its 150 test images; the confusion matrices were summed.
  assert results["final"]["target_test"]["num_examples"] == 300
  assert "eval step" not in logs[1]  # Only process 0 logs.


def test_sigterm_to_one_of_two_processes_stops_both_at_the_same_step(data_dir, tmp_path):
  """JAX's preemption service tells every process; all save the same step and exit 75."""
  procs = _two_process_cli(
    data_dir, tmp_path, "--config.train.num_steps=1000000", "--config.train.ckpt_every=1000000"
  )
  deadline = time.time() + 180
  while not (tmp_path / "metrics.jsonl").exists() and time.time() < deadline:
    time.sleep(0.2)  # Both are training once process 0 has logged.
  procs[1].send_signal(signal.SIGTERM)  # Only process 1 is told.
  steps = []
  for proc in procs:
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 75, err[-3000:]
    steps.append(int(re.search(r"stopped by signal 15 at step (\d+)", err).group(1)))
  assert steps[0] == steps[1]
  assert str(steps[0]) in os.listdir(tmp_path / "checkpoints")


def test_cli_trains_the_digits_network_sharded_over_8_cpu_devices(data_dir, tmp_path):
  """The real command on 8 host devices of this 2-core machine (issue 16, item 14).

  Once reported to hang 40 s in an all-gather at the first step and abort
  (XLA:CPU rendezvous timeout); not reproduced since, on the old code or
  this one. This runs the whole CLI, not only the step, so it would show.
  """
  cmd = [
    sys.executable, "-m", "experiments.dann", "--config", "configs/digits.py",
    f"--config.data.data_dir={data_dir}", f"--workdir={tmp_path}", "--config.parallel=sharded",
    "--config.train.num_steps=12", "--config.train.log_every=4", "--config.train.eval_every=12",
    "--config.train.ckpt_every=12",
  ]  # fmt: skip
  result = subprocess.run(cmd, cwd=ROOT, env=_env(8), capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  assert json.load(open(tmp_path / "results.json"))["topology"]["device_count"] == 8

"""The command line: bad input gives a one-line error and exit status 2."""

import os
import re
import signal
import subprocess
import sys
import time

import jax
import numpy as np

from tests import helpers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _command(workdir, *overrides) -> list[str]:
  return [
    sys.executable, "-m", "experiments.dann", "--config", "configs/digits.py:tiny",
    f"--workdir={workdir}", *overrides,
  ]  # fmt: skip


def _run(*overrides, tmp_path):
  cmd = _command(f"{tmp_path}/run", *overrides)
  return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_sigterm_saves_a_checkpoint_and_exits_75(data_dir, tmp_path):
  workdir = tmp_path / "run"
  cmd = _command(workdir, f"--config.data.data_dir={data_dir}", "--config.train.num_steps=1000000")
  proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True)
  deadline = time.time() + 120
  while not (workdir / "metrics.jsonl").exists() and time.time() < deadline:
    time.sleep(0.2)  # Training has started once the first metrics are written.
  proc.send_signal(signal.SIGTERM)
  _, stderr = proc.communicate(timeout=60)
  assert proc.returncode == 75, stderr  # EX_TEMPFAIL: not a success, try again.
  assert "rerun the same command to resume" in stderr
  step = int(re.search(r"stopped by signal 15 at step (\d+)", stderr).group(1))
  assert step >= 1 and str(step) in os.listdir(workdir / "checkpoints")
  assert not (workdir / "results.json").exists()


def _wait_for_checkpoint(workdir, at_least: int, proc, timeout: float = 120) -> None:
  deadline = time.time() + timeout
  while time.time() < deadline:
    steps = (
      [int(s) for s in os.listdir(workdir / "checkpoints") if s.isdigit()]
      if (workdir / "checkpoints").exists()
      else []
    )
    if steps and max(steps) >= at_least:
      return
    assert proc.poll() is None, proc.communicate()[1]
    time.sleep(0.05)
  raise TimeoutError(f"no checkpoint >= {at_least} in {workdir}")


def test_sigkill_at_two_steps_then_resume_is_bit_identical(tiny_config, digit_folders, tmp_path):
  """Killed twice without warning, the run still ends where an uninterrupted one does.

  The data are image folders streamed from the files with random resized
  crops, so resuming also rebuilds the streamed batches and their crops. The
  subprocesses run the same XLA configuration as this test process (no
  fast-CPU flag, most optimisations off), so their steps are bit-comparable.
  """
  from tljax.run import loop  # pylint: disable=g-import-not-at-top

  tiny_config.train.num_steps = 40
  tiny_config.train.ckpt_every = 4
  tiny_config.train.log_every = 4
  tiny_config.train.eval_every = 1000
  tiny_config.data.source = f"folder:{digit_folders['digits']}"
  tiny_config.data.target = f"folder:{digit_folders['digits_m']}"
  tiny_config.data.load, tiny_config.data.random_crop = "stream", True
  overrides = [
    f"--config.data.data_dir={tiny_config.data.data_dir}",
    f"--config.data.source={tiny_config.data.source}",
    f"--config.data.target={tiny_config.data.target}",
    "--config.data.load=stream",
    "--config.data.random_crop=True",
    "--config.train.num_steps=40",
    "--config.train.ckpt_every=4",
    "--config.train.log_every=4",
    "--config.train.eval_every=1000",
    "--noxla_cpu_fast",
  ]
  env = {**os.environ, "JAX_DISABLE_MOST_OPTIMIZATIONS": "true"}
  killed = tmp_path / "killed"
  for at_least in (8, 20):  # Two kills, at whatever step the run has reached.
    proc = subprocess.Popen(
      _command(killed, *overrides), cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    _wait_for_checkpoint(killed, at_least, proc)
    proc.kill()
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
  assert not (killed / "results.json").exists()
  resumed = loop.train_and_evaluate(tiny_config, str(killed))
  assert 20 <= resumed["resumed_from_step"] < 40
  uninterrupted = tmp_path / "uninterrupted"
  loop.train_and_evaluate(tiny_config, str(uninterrupted))
  (state_killed, step), (state_whole, _) = [
    helpers.final_state(tiny_config, workdir) for workdir in (killed, uninterrupted)
  ]
  assert step == 40
  jax.tree.map(np.testing.assert_array_equal, state_killed, state_whole)


_DIE_DURING_SAVE = """
import os, signal, sys
import orbax.checkpoint as ocp
from absl import app

original = ocp.CheckpointManager.save


def save_then_die(self, step, *args, **kwargs):
  out = original(self, step, *args, **kwargs)  # Returns while the async write is in flight.
  if step == 8:
    os.kill(os.getpid(), signal.SIGKILL)
  return out


ocp.CheckpointManager.save = save_then_die
from experiments import dann
from tljax.run import cli

sys.argv = ["dann", *sys.argv[1:]]
app.run(dann.main, flags_parser=cli.parse_flags)
"""


def test_sigkill_during_a_checkpoint_write_then_resume_is_bit_identical(tiny_config, tmp_path):
  from tljax.run import loop  # pylint: disable=g-import-not-at-top

  tiny_config.train.num_steps, tiny_config.train.ckpt_every = 16, 4
  tiny_config.train.eval_every = 1000
  killed, whole = tmp_path / "killed", tmp_path / "whole"
  args = [
    "--config=configs/digits.py:tiny",
    f"--workdir={killed}",
    f"--config.data.data_dir={tiny_config.data.data_dir}",
    "--config.train.num_steps=16",
    "--config.train.ckpt_every=4",
    "--config.train.eval_every=1000",
    "--noxla_cpu_fast",
  ]
  env = {**os.environ, "JAX_DISABLE_MOST_OPTIMIZATIONS": "true"}
  proc = subprocess.run(
    [sys.executable, "-c", _DIE_DURING_SAVE, *args], cwd=ROOT, env=env, capture_output=True
  )
  assert proc.returncode == -signal.SIGKILL
  left = sorted(os.listdir(killed / "checkpoints"))
  assert "4" in left and "8" not in left  # Step 8 was cut off mid-write: never committed.
  resumed = loop.train_and_evaluate(tiny_config, str(killed))
  assert resumed["resumed_from_step"] == 4
  loop.train_and_evaluate(tiny_config, str(whole))
  (state_killed, step), (state_whole, _) = [
    helpers.final_state(tiny_config, workdir) for workdir in (killed, whole)
  ]
  assert step == 16
  jax.tree.map(np.testing.assert_array_equal, state_killed, state_whole)

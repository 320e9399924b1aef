"""The command line: bad input gives a one-line error and exit status 2."""

import os
import re
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from tests import helpers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _command(workdir, *overrides) -> list[str]:
  return [
    sys.executable, "-m", "experiments.dann", "--config", "configs/dann_digits.py:tiny",
    f"--workdir={workdir}", *overrides,
  ]  # fmt: skip


def _run(*overrides, tmp_path):
  cmd = _command(f"{tmp_path}/run", *overrides)
  return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
  "override,message",
  [
    ("--config.method.name=dannn", "config.method.name='dannn' is unknown; choose one of"),
    ("--config.optim.lr=-0.1", "config.optim.lr=-0.1 must be > 0"),
    ("--config.data.source=mnist_x", "config.data.source='mnist_x' is unknown"),
    ("--config.model.name=resnet_x", "config.model.name='resnet_x' is unknown"),
    ("--config.data.manual_dir=/nonexistent/mnist", "/nonexistent/mnist does not exist"),
    ("--config.parallel=gpus", "config.parallel='gpus' is unknown"),
    ("--config.optim.name=lamb", "config.optim.name='lamb' is unknown"),
    ("--config.data.batch_size=0", "config.data.batch_size=0 must be > 0"),
    ("--config.model.dropout=1.5", "config.model.dropout=1.5 must be in [0, 1)"),
    ("--config.method.dann.trade_off=-1.0", "config.method.dann.trade_off=-1.0 must be >= 0"),
    ("--config.data.random_shift=-2", "config.data.random_shift=-2 must be >= 0"),
    ("--config.model.input_norm=zscore", "config.model.input_norm='zscore' is unknown"),
    ("--config.optim.schedule=cosine", "config.optim.schedule='cosine' is unknown"),
    ("--config.train.num_steps=0", "config.train.num_steps=0 must be > 0"),
    ("--config.data.target=svhn", "config.data.target='svhn' is unknown"),
    ("--config.model.init_checkpoint=/nonexistent/run", "init_checkpoint='/nonexistent/run' does"),
    ("--config.optim.l2sp_alpha=0.1", "l2sp_alpha=0.1 regularises toward pretrained weights"),
    ("--config.data.target_labels_per_class=-1", "target_labels_per_class=-1 must be >= 0"),
    ("--config.model.skip_load=('head[',)", "config.model.skip_load: 'head[' is not a regex"),
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


def test_sigkill_at_two_steps_then_resume_is_bit_identical(tiny_config, tmp_path):
  """Killed twice without warning, the run still ends where an uninterrupted one does.

  The subprocesses run the same XLA configuration as this test process (no
  fast-CPU flag, most optimisations off), so their steps are bit-comparable.
  """
  from tljax.train import loop  # pylint: disable=g-import-not-at-top

  tiny_config.train.num_steps = 60
  tiny_config.train.ckpt_every = 4
  tiny_config.train.log_every = 4
  tiny_config.train.eval_every = 1000
  overrides = [
    f"--config.data.data_dir={tiny_config.data.data_dir}",
    "--config.train.num_steps=60",
    "--config.train.ckpt_every=4",
    "--config.train.log_every=4",
    "--config.train.eval_every=1000",
    "--noxla_cpu_fast",
  ]
  env = {**os.environ, "JAX_DISABLE_MOST_OPTIMIZATIONS": "true"}
  killed = tmp_path / "killed"
  for at_least in (8, 28):  # Two kills, at whatever step the run has reached.
    proc = subprocess.Popen(
      _command(killed, *overrides), cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    _wait_for_checkpoint(killed, at_least, proc)
    proc.kill()
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
  assert not (killed / "results.json").exists()
  resumed = loop.train_and_evaluate(tiny_config, str(killed))
  assert 28 <= resumed["resumed_from_step"] < 60
  uninterrupted = tmp_path / "uninterrupted"
  loop.train_and_evaluate(tiny_config, str(uninterrupted))
  (state_killed, step), (state_whole, _) = [
    helpers.final_state(tiny_config, workdir) for workdir in (killed, uninterrupted)
  ]
  assert step == 60
  jax.tree.map(np.testing.assert_array_equal, state_killed, state_whole)

"""The scripts in examples/ run as documented, and train what the library trains."""

import os
import re
import subprocess
import sys

import jax
import numpy as np
import pytest

from configs import digits
from tests import helpers
from tljax import methods, models
from tljax.core import optim
from tljax.core import state as state_lib
from tljax.errors import ConfigError
from tljax.run import loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))
import custom_loop  # noqa: E402
import own_flax_module  # noqa: E402


def test_the_custom_loop_trains_kmm_as_the_library_does(tiny_config, tmp_path):
  """kmm weights its source examples (Method.prepare): the example's loop must too."""
  tiny_config.method.name = "kmm"
  tiny_config.method.kmm.iterations = 100  # The weights' quality is not under test here.
  tiny_config.train.num_steps = tiny_config.train.ckpt_every = 12
  state, ours = custom_loop.train(tiny_config)
  theirs = loop.train_and_evaluate(tiny_config, str(tmp_path / "run"))
  assert ours["target_test"] == theirs["target_test_accuracy"]
  library_state, _ = helpers.final_state(tiny_config, tmp_path / "run")
  jax.tree.map(np.testing.assert_array_equal, state.params, library_state.params)


def test_a_state_for_a_preparing_method_is_refused_unless_prepared_later(tiny_config):
  method = methods.create(tiny_config, 10)
  classifier = models.build_classifier(tiny_config.model, 10)
  tx, _ = optim.make_optimizer(tiny_config.optim, 6)
  tiny_config.method.name = "kmm"
  kmm = methods.create(tiny_config, 10)
  with pytest.raises(ConfigError, match="'kmm' prepares on its training sets"):
    state_lib.create_train_state(jax.random.key(0), classifier, kmm, tx, (28, 28, 3))
  state_lib.create_train_state(jax.random.key(0), classifier, method, tx, (28, 28, 3))


def test_your_own_module_learns_the_source(data_dir):
  config = digits.get_config()
  config.data.data_dir, config.train.num_steps = data_dir, 30
  config.data.batch_size = 32  # Source accuracy 0.87 here after 30 steps (0.94 after 60).
  _, accuracy = custom_loop.train(config, own_flax_module.SmallNet(num_classes=10))
  assert accuracy["source_test"] > 0.5  # 10 classes: chance is 0.1.


def test_the_documented_command_runs(data_dir):
  cmd = [sys.executable, "examples/custom_loop.py", "--method=mcc", "--steps=20", "--tiny"]
  result = subprocess.run(
    [*cmd, f"--data_dir={data_dir}"], cwd=ROOT, capture_output=True, text=True, timeout=300
  )
  assert result.returncode == 0, result.stderr[-3000:]
  assert re.search(r"^mcc: target test accuracy \d\.\d{3}$", result.stdout, re.M), result.stdout
  assert "step 20: accuracy" in result.stdout

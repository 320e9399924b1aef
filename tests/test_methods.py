"""Every registered method: builds, steps under jit and sharded jit, reports finite metrics.

Each method's defining property is tested in its own file (test_coral.py, ...).
"""

import json
import os
import re
import subprocess
import sys

import jax
import numpy as np
import pytest

from configs import dann_digits
from experiments import bench
from tests import helpers
from tljax import methods
from tljax.errors import ConfigError
from tljax.methods import base
from tljax.train import build, loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAPER_METHODS = {
  "dann", "source_only", "target_only", "coral", "dan", "jan", "cdan", "cdan_e", "mcd", "mdd",
  "mcc", "self_training",
}  # fmt: skip


def test_every_issue_method_is_registered_and_has_a_config_section():
  assert PAPER_METHODS <= set(methods.names())
  config = dann_digits.get_config()
  for name in methods.names():
    assert dict(config.method[name]) == methods.find(name).defaults, name


@pytest.mark.parametrize("name", methods.names())
def test_method_steps_under_jit_with_finite_metrics_and_one_compile(name, tmp_path):
  config = dann_digits.get_config("tiny")
  config.method.name = name
  helpers.provide_teacher(config, (28, 28, 3), 10, tmp_path / "teacher")
  built = helpers.prepared(
    build.build(config, (28, 28, 3), num_classes=10), config, np.random.default_rng(1)
  )
  batch = bench.synthetic_batch(config, built.method.streams, np.random.default_rng(0))
  state = built.state
  before = jax.tree.map(np.array, state.params)  # The step donates (frees) its input state.
  for _ in range(3):
    state, metrics = built.train_step(state, batch, jax.random.key(0))
  assert int(state.step) == 3
  assert built.train_step._cache_size() == 1  # pylint: disable=protected-access
  for key in ("loss", "cls_loss", "accuracy", "grad_norm", "lr"):
    assert key in metrics, key
  for key, value in metrics.items():
    assert np.isfinite(value), (key, value)
  assert set(built.method.labels) <= set(metrics)  # Every progress-line label is reported.
  moved = jax.tree.map(lambda a, b: bool(np.any(a != b)), before, state.params)
  assert all(jax.tree.leaves(moved["classifier"]["head"]))  # The evaluated head trains.


def test_sharded_jit_on_8_devices_matches_one_device_for_every_method(tmp_path):
  """Same tolerance as tests/test_parallel.py (per-device float32 sums differ)."""
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
  env["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "1"  # Fast compiles, as in this process (conftest.py).
  cmd = [sys.executable, "-m", "tests.parallel_worker", "--out", str(tmp_path),
         "--modes", "single,sharded", "--methods", "all"]  # fmt: skip
  result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
  assert result.returncode == 0, result.stderr[-3000:]
  for name in methods.names():
    single = np.load(tmp_path / f"{name}_single_1x8.npz")
    sharded = np.load(tmp_path / f"{name}_sharded_1x8.npz")
    assert sorted(single.files) == sorted(sharded.files)
    for key in single.files:
      np.testing.assert_allclose(
        single[key], sharded[key], rtol=1e-4, atol=5e-5, err_msg=f"{name} {key}"
      )


def test_unknown_method_and_bad_fields_are_one_line_config_errors():
  config = dann_digits.get_config("tiny")
  config.method.name = "dann2"
  with pytest.raises(ConfigError, match=r"config.method.name='dann2' is unknown; choose one of \["):
    base.create(config, 10)
  config.method.name = "cdan"
  config.method.cdan.map = "exact"
  with pytest.raises(ConfigError, match=r"config.method.cdan.map='exact' must be one of"):
    base.create(config, 10)
  config.method.name = "mcd"
  config.method.mcd.num_k = 0
  with pytest.raises(ConfigError, match="config.method.mcd.num_k=0 must be an integer > 0"):
    base.create(config, 10)


TOY_METHOD = '''
"""Entropy minimisation on the target (Grandvalet & Bengio 2005): a method in one file."""

import dataclasses

import jax

from tljax.methods import base


@dataclasses.dataclass(frozen=True)
class Method(base.Method):
  streams = (base.SOURCE, base.TARGET)
  defaults = {"trade_off": 0.1}
  labels = {"target_entropy": "ent"}

  trade_off: float = 0.1

  @classmethod
  def create(cls, setup):
    return cls(trade_off=setup.get("trade_off", base.NON_NEGATIVE))

  def loss(self, out):
    cls_loss, metrics = base.supervised(out, base.SOURCE)
    probs = jax.nn.softmax(out.logits[base.TARGET])
    entropy = -(probs * jax.numpy.log(probs + 1e-6)).sum(-1).mean()
    return cls_loss + self.trade_off * entropy, {**metrics, "target_entropy": entropy}
'''


def test_a_new_method_is_one_new_file(tiny_config, tmp_path, monkeypatch):
  """A file dropped into the methods package trains end to end, nothing else edited."""
  package = tmp_path / "extra_methods"
  package.mkdir()
  (package / "toy_entropy.py").write_text(TOY_METHOD)
  monkeypatch.setattr(methods, "__path__", [*methods.__path__, str(package)])
  assert "toy_entropy" in methods.names()
  tiny_config.method.name = "toy_entropy"
  results = loop.train_and_evaluate(tiny_config, str(tmp_path / "run"))
  assert results["method"] == "toy_entropy" and results["steps"] == tiny_config.train.num_steps
  history = [json.loads(line) for line in open(tmp_path / "run" / "metrics.jsonl")]
  assert any("train/target_entropy" in h for h in history)
  sys.modules.pop("tljax.methods.toy_entropy", None)


def test_no_shared_code_branches_on_a_method_name():
  names = "|".join(sorted(methods.names(), key=len, reverse=True))
  pattern = re.compile(rf"""(==|!=|\bin)\s*\(?["']({names})["']|["']({names})["']\s*(==|!=)""")
  shared = [
    "tljax/train",
    "tljax/models",
    "tljax/data",
    "experiments/dann.py",
    "experiments/bench.py",
  ]
  offenders = []
  for path in shared:
    full = os.path.join(ROOT, path)
    files = [full] if full.endswith(".py") else [
      os.path.join(d, f) for d, _, fs in os.walk(full) for f in fs if f.endswith(".py")
    ]  # fmt: skip
    for file in files:
      for number, line in enumerate(open(file), 1):
        # `optim.schedule == "dann"` names the learning-rate schedule, not a method.
        if pattern.search(line) and "schedule" not in line:
          offenders.append(f"{os.path.relpath(file, ROOT)}:{number}: {line.strip()}")
  assert not offenders, offenders

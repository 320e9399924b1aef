"""Every registered method: builds, steps under jit and sharded jit, reports finite metrics.

Each method's defining property is tested in its own file (test_coral.py, ...).
"""

import dataclasses
import json
import os
import re
import subprocess
import sys

import jax
import ml_collections
import numpy as np
import pytest

from benchmarks import bench
from configs import digits
from tests import helpers
from tljax import core, methods
from tljax.core import state as core_state
from tljax.errors import ConfigError
from tljax.run import build, loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAPER_METHODS = {
  "dann", "source_only", "target_only", "coral", "dan", "jan", "cdan", "cdan_e", "mcd", "mdd",
  "mcc", "self_training",
}  # fmt: skip


def test_every_issue_method_is_registered_and_has_a_config_section():
  assert PAPER_METHODS <= set(methods.names())
  config = digits.get_config("paper")  # The plain recipe changes no method setting.
  for name in methods.names():
    assert dict(config.method[name]) == core.settings(methods.find(name)), name


@pytest.mark.parametrize("name", methods.names())
def test_a_method_built_from_the_config_equals_the_one_built_directly(name, tmp_path):
  """A setting is declared once: the config section, `create` and the field defaults agree."""
  config = digits.get_config("paper")
  config.method.name = name
  helpers.provide_teacher(config, (28, 28, 3), 10, tmp_path / "teacher")
  created = methods.create(config, num_classes=10, input_shape=(28, 28, 3))
  cls = methods.find(name)
  section = config.method[name]
  changed = {k: section[k] for k, v in core.settings(cls).items() if section[k] != v}
  assert set(changed) <= {"teacher"}  # provide_teacher's; every other setting at its default.
  model = ml_collections.FrozenConfigDict(config.model)
  direct = cls(num_classes=10, num_steps=config.train.num_steps, model=model, **changed)
  direct = dataclasses.replace(direct, input_shape=(28, 28, 3))
  if hasattr(created, "wrapped"):  # mcc: its base method, built from the config or by name.
    assert created.wrapped == direct.wrapped
    created = dataclasses.replace(created, inner=None)
  assert created == direct


def test_settings_are_checked_by_their_declared_rule():
  config = digits.get_config("tiny")
  for field, bad, rule in (
    ("dann.trade_off", -1.0, ">= 0"),
    ("mdd.margin", 0.0, "> 0"),
    ("mcd.num_k", 0, "an integer > 0"),
    ("cdan.map", "diagonal", "one of ['auto', 'full', 'random']"),
    ("dann.discriminator_hidden", (0,), "layer widths"),
  ):
    name, key = field.split(".")
    bad_config = config.copy_and_resolve_references()
    with bad_config.unlocked():
      bad_config.method.name = name
      bad_config.method[name][key] = bad
    message = re.escape(f"config.method.{field}={bad!r} must be ") + f".*{re.escape(rule)}"
    with pytest.raises(ConfigError, match=message):
      methods.create(bad_config, num_classes=10)


@pytest.mark.parametrize("name", methods.names())
def test_method_steps_under_jit_with_finite_metrics_and_one_compile(name, tmp_path):
  config = digits.get_config("tiny")
  config.method.name = name
  helpers.provide_teacher(config, (28, 28, 3), 10, tmp_path / "teacher")
  built = helpers.built(config, (28, 28, 3), 10, np.random.default_rng(1))
  batch = bench.synthetic_batch(config, built.method.streams, np.random.default_rng(0))
  state = built.state
  before = jax.tree.map(np.array, state.params)  # The step donates (frees) its input state.
  for _ in range(3):
    state, metrics = built.train_step(state, batch, jax.random.key(0))
  assert int(state.step) == 3
  assert built.train_step._cache_size() == 1  # pylint: disable=protected-access
  method = built.method
  wanted = ["lr"]
  if type(method).loss is not core.Method.loss or type(method).update is core.Method.update:
    wanted += ["loss", "grad_norm"]  # Gradient methods (not AdaBN's statistics-only update).
  if set(method.streams) & {core.SOURCE, core.TARGET_LABELLED}:  # Methods that read labels.
    wanted += ["cls_loss", "accuracy"]
  for key in wanted:
    assert key in metrics, key
  for key, value in metrics.items():
    assert np.all(np.isfinite(value)), (key, value)
  assert set(built.method.labels) <= set(metrics)  # Every progress-line label is reported.
  moved = jax.tree.map(lambda a, b: bool(np.any(a != b)), before, state.params)
  if type(built.method).loss is core.Method.loss:  # AdaBN: statistics only, no gradient.
    assert not any(jax.tree.leaves(moved))
  elif built.method.trains == "batch_norm":  # Tent, EATA: BatchNorm scale and shift only.
    names = {core_state.param_name(p): m for p, m in jax.tree_util.tree_leaves_with_path(moved)}
    others = [n for n, m in names.items() if m and not re.search(r"BatchNorm_\d+/(scale|bias)$", n)]
    assert not others, others  # EATA may keep no example of a random batch: then none moves.
  elif built.method.trains == "features":  # SHOT, NRC: the output layer (hypothesis) is fixed.
    names = {core_state.param_name(p): m for p, m in jax.tree_util.tree_leaves_with_path(moved)}
    output = build.output_layer(config.model)
    assert {n for n, m in names.items() if not m} == {n for n in names if re.search(output, n)}
  else:
    assert all(jax.tree.leaves(moved["classifier"]["head"]))  # The evaluated head trains.


def test_every_method_sharded_and_own_updates_per_device_match_one_device(tmp_path):
  """As tests/test_parallel.py: every leaf's update (params, optimizer and method state, EMA)
  matches one device's relative to its size, and every trained leaf moved. Per device, the
  methods with their own update (mcd) or wrapping another (mcc) match the same step under
  jax.pmap (MCC's class confusion is per device batch, so not one device's; NRC's memory takes
  every device's rows)."""
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
  env["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "1"  # Fast compiles, as in this process (conftest.py).
  runs = [("single,sharded", "all"), ("per_device,pmap", "mcd,mcc,nrc")]
  for modes, names in runs:
    cmd = [sys.executable, "-m", "tests.parallel_worker", "--out", str(tmp_path),
           "--modes", modes, "--methods", names]  # fmt: skip
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
  output = rf"\['head'\]\['Dense_{len(digits.get_config('tiny').model.head_hidden)}'\]"
  compared = [(name, "single", "sharded") for name in methods.names()]
  compared += [(name, "pmap", "per_device") for name in ("mcd", "mcc", "nrc")]
  for name, reference, mode in compared:
    single = np.load(tmp_path / f"{name}_{reference}_1x8.npz")
    other = np.load(tmp_path / f"{name}_{mode}_1x8.npz")
    bad, still = helpers.update_mismatches(single, other)
    assert not bad, (name, mode, bad)
    cls = methods.find(name)
    if cls.trains != "batch_norm" and cls.loss is not core.Method.loss:  # Not Tent's or AdaBN's.
      # Untrained by design: the method's fixed state (CDAN's projections, a teacher, ...), and
      # SHOT's and NRC's output layer.
      fixed = "method_state|" + (output if cls.trains == "features" else "method_state")
      assert all(re.search(fixed, k) for k in still), (name, still)


def test_unknown_method_and_bad_fields_are_one_line_config_errors():
  config = digits.get_config("tiny")
  config.method.name = "dann2"
  with pytest.raises(ConfigError, match=r"config.method.name='dann2' is unknown; choose one of \["):
    methods.create(config, 10)
  config.method.name = "cdan"
  config.method.cdan.map = "exact"
  with pytest.raises(ConfigError, match=r"config.method.cdan.map='exact' must be one of"):
    methods.create(config, 10)
  config.method.name = "mcd"
  config.method.mcd.num_k = 0
  with pytest.raises(ConfigError, match="config.method.mcd.num_k=0 must be an integer > 0"):
    methods.create(config, 10)


TOY_METHOD = '''
"""Entropy minimisation on the target (Grandvalet & Bengio 2005): a method in one file."""

import dataclasses

import jax

from tljax import core, methods


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  streams = (core.SOURCE, core.TARGET)
  labels = {"target_entropy": "ent"}

  trade_off: float = core.setting(0.1, core.NON_NEGATIVE)

  def loss(self, out):
    cls_loss, metrics = core.supervised(out, core.SOURCE)
    probs = jax.nn.softmax(out.logits[core.TARGET])
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
    "tljax/core",
    "tljax/losses",
    "tljax/run",
    "tljax/models",
    "tljax/data",
    "tljax/analysis",
    "experiments/dann.py",
    "benchmarks/bench.py",
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

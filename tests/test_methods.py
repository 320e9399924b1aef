"""Every registered method: builds, steps under jit and sharded jit, reports finite metrics.

Each method's defining property is tested in its own file (test_coral.py, ...).
"""

import dataclasses
import json
import os
import re
import subprocess
import sys

import ml_collections
import numpy as np
import pytest

from configs import digits
from tests import helpers
from tljax import core, methods
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


@pytest.fixture(scope="module")
def worker_runs(tmp_path_factory):
  """Every method's 3 steps from one build, under single-device jit and sharded jit on 8 CPU
  devices (tests/parallel_worker.py); mcd, mcc and nrc also per device and under jax.pmap. Both
  commands run at once: {file stem: saved leaves}."""
  out = tmp_path_factory.mktemp("methods")
  env = helpers.worker_env(8)  # Fast compiles, as in this process (conftest.py).
  runs = [("single,sharded", "all"), ("per_device,pmap", "mcd,mcc,nrc")]
  procs = [
    subprocess.Popen(
      [
        sys.executable,
        "-m",
        "tests.parallel_worker",
        "--out",
        str(out),
        "--modes",
        modes,
        "--methods",
        names,
      ],
      cwd=ROOT,
      env=env,
      stderr=subprocess.PIPE,
      text=True,
    )  # fmt: skip
    for modes, names in runs
  ]
  for proc in procs:
    _, stderr = proc.communicate(timeout=400)
    assert proc.returncode == 0, stderr[-3000:]
  return {path.stem: dict(np.load(path)) for path in out.glob("*.npz")}


def _names(tree: dict, prefix: str) -> dict:
  """{"params/classifier/...": array} of one saved state's leaves under `prefix` ("init/...")."""
  out = {}
  for key, value in tree.items():
    if key.startswith(prefix + "/.params"):
      path = re.findall(r"\['([^']+)'\]", key[len(prefix) + len("/.params") :])
      out["/".join(path)] = value
  return out


@pytest.mark.parametrize("name", methods.names())
def test_method_steps_under_jit_with_finite_metrics_and_one_compile(name, worker_runs):
  """Three single-device jit steps of one build: one compile, the metrics each method reports,
  finite, and the leaves it trains (and only those) moved."""
  saved = worker_runs[f"{name}_single_1x8"]
  cls = methods.find(name)
  assert int(saved["final/.step"]) == 3
  assert int(saved["compiles"]) == 1
  metrics = {k[len("metric/") :]: v for k, v in saved.items() if k.startswith("metric/")}
  wanted = ["lr"]
  if cls.loss is not core.Method.loss or cls.update is core.Method.update:
    wanted += ["loss", "grad_norm"]  # Gradient methods (not AdaBN's statistics-only update).
  if set(saved["streams"]) & {core.SOURCE, core.TARGET_LABELLED}:  # Methods that read labels.
    wanted += ["cls_loss", "accuracy"]
  for key in wanted:
    assert key in metrics, key
  for key, value in metrics.items():
    assert np.all(np.isfinite(value)), (key, value)
  assert set(saved["labels"]) <= set(metrics)  # Every progress-line label is reported.
  before, after = _names(saved, "init"), _names(saved, "final")
  assert before and set(before) == set(after)
  moved = {n: bool(np.any(before[n] != after[n])) for n in before}
  if cls.loss is core.Method.loss:  # AdaBN: statistics only, no gradient.
    assert not any(moved.values())
  elif cls.trains == "batch_norm":  # Tent, EATA: BatchNorm scale and shift only.
    others = [n for n, m in moved.items() if m and not re.search(r"BatchNorm_\d+/(scale|bias)$", n)]
    assert not others, others  # EATA may keep no example of a random batch: then none moves.
  elif cls.trains == "features":  # SHOT, NRC: the output layer (hypothesis) is fixed.
    output = build.output_layer(digits.get_config("tiny").model)
    assert {n for n, m in moved.items() if not m} == {n for n in moved if re.search(output, n)}
  else:  # The evaluated head trains.
    assert all(m for n, m in moved.items() if n.startswith("classifier/head/")), moved


def test_every_method_sharded_and_own_updates_per_device_match_one_device(worker_runs):
  """As tests/test_parallel.py: every leaf's update (params, optimizer and method state, EMA)
  matches one device's relative to its size, and every trained leaf moved. Per device, the
  methods with their own update (mcd) or wrapping another (mcc) match the same step under
  jax.pmap (MCC's class confusion is per device batch, so not one device's; NRC's memory takes
  every device's rows)."""
  output = rf"\['head'\]\['Dense_{len(digits.get_config('tiny').model.head_hidden)}'\]"
  compared = [(name, "single", "sharded") for name in methods.names()]
  compared += [(name, "pmap", "per_device") for name in ("mcd", "mcc", "nrc")]
  for name, reference, mode in compared:
    single = _Saved(worker_runs[f"{name}_{reference}_1x8"])
    other = _Saved(worker_runs[f"{name}_{mode}_1x8"])
    bad, still = helpers.update_mismatches(single, other)
    assert not bad, (name, mode, bad)
    cls = methods.find(name)
    if cls.trains != "batch_norm" and cls.loss is not core.Method.loss:  # Not Tent's or AdaBN's.
      # Untrained by design: the method's fixed state (CDAN's projections, a teacher, ...), and
      # SHOT's and NRC's output layer.
      fixed = "method_state|" + (output if cls.trains == "features" else "method_state")
      assert all(re.search(fixed, k) for k in still), (name, still)


class _Saved(dict):
  """A loaded run as `helpers.update_mismatches` reads it (an npz file's `.files`)."""

  @property
  def files(self):
    return list(self)


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

"""Label sets that differ: class mapping, the unknown label, its measures, the four methods."""

import json
import os
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import digits
from tests import helpers
from tljax.core import step as steps
from tljax.data import classes
from tljax.errors import ConfigError
from tljax.losses.grl import gradient_reversal
from tljax.methods import osbp, ovanet, pada, uan
from tljax.run import build

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS = [str(i) for i in range(10)]


def test_label_sets_map_source_classes_and_one_unknown():
  # Open set: source 0-5, target all ten; 6-9 become "unknown" (id 6).
  to_source, to_target, names = classes.align(DIGITS, DIGITS, source_classes="0-5")
  assert names == ["0", "1", "2", "3", "4", "5", classes.UNKNOWN]
  np.testing.assert_array_equal(to_source, [0, 1, 2, 3, 4, 5, -1, -1, -1, -1])
  np.testing.assert_array_equal(to_target, [0, 1, 2, 3, 4, 5, 6, 6, 6, 6])
  # Universal: source 0-7, target 3-9: target 0-2 dropped, 8-9 unknown (id 8).
  to_source, to_target, names = classes.align(
    DIGITS, DIGITS, source_classes="0-7", target_classes="3-9"
  )
  assert names[-1] == classes.UNKNOWN and len(names) == 9
  np.testing.assert_array_equal(to_target, [-1, -1, -1, 3, 4, 5, 6, 7, 8, 8])
  # Partial: target 0-4 inside the source: no unknown class, the source keeps all ten.
  to_source, to_target, names = classes.align(DIGITS, DIGITS, target_classes="0,1,2,3,4")
  assert names == DIGITS
  np.testing.assert_array_equal(to_target, [0, 1, 2, 3, 4, -1, -1, -1, -1, -1])
  # Names and ids mix; relabel drops the examples of unkept classes.
  arrays = {"label": np.array([0, 7, 9, 3]), "input": np.arange(4)}
  relabelled = classes.relabel(arrays, to_target)
  np.testing.assert_array_equal(relabelled["label"], [0, 3])
  np.testing.assert_array_equal(relabelled["input"], [0, 3])


def test_label_set_mistakes_are_one_line_errors():
  with pytest.raises(ConfigError, match="'cat' is neither a class nor an id range"):
    classes.align(DIGITS, DIGITS, source_classes="cat")
  with pytest.raises(ConfigError, match=r"ids '5-12' are not in 0-9"):
    classes.align(DIGITS, DIGITS, target_classes="5-12")
  with pytest.raises(ConfigError, match="share no class"):
    classes.align(DIGITS, DIGITS, source_classes="0-4", target_classes="5-9")


def test_open_set_measures_on_a_hand_made_confusion():
  # Known classes 0, 1 and unknown (2). Rows: truth.
  confusion = np.array([[8, 1, 1], [2, 6, 2], [3, 1, 6]])
  summary = steps.confusion_summary(confusion, unknown=True)
  os_star = (8 / 10 + 6 / 10) / 2  # 0.7
  unk = 6 / 10
  assert summary["os_star"] == pytest.approx(os_star)
  assert summary["unk"] == pytest.approx(unk)
  assert summary["hos"] == pytest.approx(2 * os_star * unk / (os_star + unk), abs=1e-6)
  assert summary["accuracy"] == pytest.approx(20 / 30, abs=1e-6)
  # A closed-set prediction never says unknown: UNK and HOS are 0, OS* its known recall.
  closed = np.array([[9, 1, 0], [1, 9, 0], [5, 5, 0]])
  summary = steps.confusion_summary(closed, unknown=True)
  assert (summary["unk"], summary["hos"]) == (0.0, 0.0)
  assert summary["os_star"] == pytest.approx(0.9)
  # Partial set: a source class absent from the target has no recall; the mean skips it.
  partial = np.array([[5, 0, 0], [1, 4, 0], [0, 0, 0]])
  summary = steps.confusion_summary(partial)
  assert summary["per_class_recall"][2] is None
  assert summary["mean_class_recall"] == pytest.approx((1.0 + 0.8) / 2)
  assert "hos" not in summary


def test_pada_class_weights_on_a_hand_built_prediction_matrix():
  probs = jnp.array([[0.7, 0.2, 0.1], [0.5, 0.4, 0.1], [0.9, 0.1, 0.0]])
  # Mean (0.7, 0.233.., 0.0667), divided by its largest entry.
  expected = np.array([0.7, 0.7 / 3, 0.2 / 3]) / 0.7
  np.testing.assert_allclose(pada.class_weights(probs), expected, rtol=1e-6)


def test_osbp_boundary_loss_and_its_gradient_signs():
  """The classifier moves the unknown probability towards t; the generator away from it."""
  t = 0.5
  for p in (0.2, 0.5, 0.8):
    # d/dp [-t log p - (1 - t) log(1 - p)] = -t / p + (1 - t) / (1 - p), by hand.
    grad = jax.grad(lambda q: osbp.boundary_loss(q, t))(jnp.asarray(p))
    assert float(grad) == pytest.approx(-t / p + (1 - t) / (1 - p), rel=1e-4)
  assert float(osbp.boundary_loss(jnp.asarray(0.5), t)) == pytest.approx(np.log(2), rel=1e-5)
  # A two-class + unknown linear head on one feature vector, p_unknown above t.
  w = jnp.array([[0.0, 0.0, 1.0], [0.0, 0.0, 0.5]])
  f = jnp.array([1.0, 1.0])

  def loss(w, f):
    unknown = jax.nn.softmax(gradient_reversal(f, jnp.asarray(1.0)) @ w)[-1]
    return osbp.boundary_loss(unknown, t)

  gw, gf = jax.grad(loss, argnums=(0, 1))(w, f)
  assert float(jax.nn.softmax(f @ w)[-1]) > t
  # Descending on w lowers the unknown logit (towards t); descending on f (reversed) raises it.
  assert float(gw[:, -1].sum()) > 0
  assert float(gf @ w[:, -1]) < 0


def test_ovanet_open_entropy_loss_and_rejection_by_hand():
  # One example, two classes; heads' logits [B, 2 (neg, pos), K].
  logits = jnp.array([[[0.0, 0.0], [0.0, np.log(3.0)]]])  # Class 0: p+ 1/2; class 1: p+ 3/4.
  h = lambda p: -(p * np.log(p) + (1 - p) * np.log(1 - p))  # noqa: E731
  assert float(ovanet.open_entropy(logits)) == pytest.approx((h(0.5) + h(0.75)) / 2, rel=1e-5)
  # Label 1: -log p1+ - (the hardest negative) -log p0-.
  loss = float(ovanet.ova_loss(logits, jnp.array([1])))
  assert loss == pytest.approx(-np.log(0.75) - np.log(0.5), rel=1e-5)
  closed = jnp.array([[2.0, 1.0], [1.0, 2.0]])  # Predicts class 0, then class 1.
  heads = jnp.concatenate([logits, logits])
  heads = heads.at[0, 1, 0].set(-1.0)  # First example: its class 0 head says p+ < 1/2.
  np.testing.assert_array_equal(ovanet.reject(closed, heads), [2, 1])


def test_uan_transferability_by_hand():
  logits = jnp.array([[0.0, 0.0], [10.0, 0.0]])  # Uniform (Ĥ = 1), then nearly certain (Ĥ ~ 0).
  similarity = jnp.array([0.0, -np.log(3.0)])  # Discriminator logits: P(source) 1/2, 3/4.
  w = np.asarray(uan.transferability(logits, similarity))
  assert w[0] == pytest.approx(0.5 - 1.0, abs=1e-4)  # Entropy adds 1e-5 inside its log.
  assert w[1] == pytest.approx(0.75, abs=1e-3)


@pytest.mark.parametrize("name", ["pada", "osbp", "ovanet", "uan", "dann", "target_only"])
def test_methods_step_and_evaluate_with_an_unknown_class(name, tmp_path):
  config = digits.get_config("tiny,openset")
  config.method.name = name
  rng = np.random.default_rng(0)
  sets = helpers.built(config, (28, 28, 3), 6, rng).sets  # Synthetic batches.
  built = build.build(config, (28, 28, 3), 6, sets, unknown=True)
  assert built.method.unknown
  batch = {s: sets[s] for s in built.method.streams}
  for stream in batch.values():
    if "label" in stream:
      stream["label"] = stream["label"] % (6 + int(name == "target_only"))
  state, metrics = built.train_step(built.state, batch, jax.random.key(0))
  assert all(np.isfinite(float(v)) for v in metrics.values()), metrics
  outputs = built.method.outputs
  assert outputs == 6 + int(name in ("osbp", "target_only"))
  eval_batch = {"input": sets["source"]["input"], "label": rng.integers(0, 7, 8),
                "mask": np.ones(8, np.float32)}  # fmt: skip
  confusion = np.asarray(built.eval_step(state, eval_batch)["confusion"])
  assert confusion.shape == (7, 7) and confusion.sum() == 8


def test_an_open_set_run_reports_hos_offline(data_dir, tmp_path):
  workdir = tmp_path / "run"
  cmd = [sys.executable, "-m", "experiments.dann", "--config=configs/digits.py:openset,tiny",
         "--config.method.name=osbp", f"--config.data.data_dir={data_dir}",
         f"--workdir={workdir}"]  # fmt: skip
  run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert run.returncode == 0, run.stderr[-2000:]
  results = json.loads((workdir / "results.json").read_text())
  for key in ("target_test_os_star", "target_test_unk", "target_test_hos"):
    assert 0 <= results[key] <= 1, key
  assert len(results["final"]["target_test"]["confusion"]) == 7  # Six known + unknown.
  assert len(results["final"]["source_test"]["confusion"]) == 7  # Its unknown row is empty.
  assert re.search(r"target_test acc [\d.]+ os_star [\d.]+ unk [\d.]+ hos [\d.]+", run.stderr)
  assert "target_test_hos" in results["eval_history"][-1]

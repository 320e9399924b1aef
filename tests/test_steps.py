"""Train/eval steps on a tiny model and synthetic batches."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import common
from tljax import methods, models
from tljax.core import step as steps
from tljax.core.optim import make_optimizer
from tljax.core.state import create_train_state
from tljax.errors import ConfigError
from tljax.run import validate

# The paper's network with BatchNorm and dropout, to cover batch_stats and rngs.
DIGITS_BN = {"name": "digits_net", "norm": "batch", "dropout": 0.1}


def _build(method="dann", model=None, ema_decay=0.0):
  config = common.base_config()
  common.shrink_for_tests(config)
  config.model.update(model or {})
  config.method.name = method
  config.train.num_steps = 10
  classifier = models.build_classifier(config.model, num_classes=3)
  transfer = methods.create(config, num_classes=3)
  tx, lr_schedule = make_optimizer(config.optim, num_steps=10)
  size = 28 if config.model.name == "digits_net" else 12
  state = create_train_state(jax.random.key(0), classifier, transfer, tx, (size, size, 3))
  step = jax.jit(
    steps.make_train_step(
      method=transfer,
      classifier=classifier,
      tx=tx,
      lr_schedule=lr_schedule,
      hparams=steps.StepHParams(ema_decay=ema_decay),
    )
  )
  return state, step, classifier


def _batch(seed=0, n=6, size=12):
  rng = np.random.default_rng(seed)
  return {
    "source": {
      "input": rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8),
      "label": rng.integers(0, 3, (n,)),
    },
    "target": {"input": rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)},
  }


@pytest.mark.parametrize("model,size", [(None, 12), (DIGITS_BN, 28)])
def test_three_steps_advance_and_give_finite_metrics(model, size):
  state, step, _ = _build(model=model)
  rng = jax.random.key(1)
  before = state.batch_stats
  for i in range(3):
    state, metrics = step(state, _batch(i, size=size), rng)
  assert int(state.step) == 3
  for name in (
    "loss",
    "cls_loss",
    "domain_loss",
    "domain_acc_source",
    "domain_acc_target",
    "grl_coeff",
    "lr",
    "grad_norm",
  ):
    assert np.isfinite(metrics[name]), name
  np.testing.assert_allclose(
    metrics["loss"], metrics["cls_loss"] + metrics["domain_loss"], rtol=1e-6
  )
  if model:  # BatchNorm statistics moved.
    assert not np.allclose(jax.tree.leaves(before)[0], jax.tree.leaves(state.batch_stats)[0])


def test_step_is_deterministic_bit_for_bit():
  outs = []
  for _ in range(2):
    state, step, _ = _build(model=DIGITS_BN)
    for i in range(2):
      state, metrics = step(state, _batch(i, size=28), jax.random.key(7))
    outs.append((state.params, metrics))
  jax.tree.map(np.testing.assert_array_equal, outs[0], outs[1])


def test_a_few_steps_lower_the_task_loss():
  state, step, _ = _build(method="source_only")
  batch = _batch(0)
  losses = []
  for _ in range(30):
    state, metrics = step(state, batch, jax.random.key(0))
    losses.append(float(metrics["cls_loss"]))
  assert losses[-1] < 0.9 * losses[0]  # Measured: 1.08 -> 0.87.


def test_source_only_ignores_target_and_reports_no_domain_metrics():
  state, step, _ = _build(method="source_only")
  batch = _batch(0)
  new_a, metrics = step(state, batch, jax.random.key(0))
  batch["target"]["input"] = 255 - batch["target"]["input"]
  new_b, _ = step(state, batch, jax.random.key(0))
  assert "domain_loss" not in metrics
  jax.tree.map(np.testing.assert_array_equal, new_a.params, new_b.params)


def test_target_only_learns_from_the_labelled_target_stream():
  state, step, _ = _build(method="target_only")
  batch = _batch(0)
  oracle = {"target_labelled": {**batch["target"], "label": batch["source"]["label"]}}
  new_a, _ = step(state, oracle, jax.random.key(0))
  oracle["target_labelled"]["label"] = (oracle["target_labelled"]["label"] + 1) % 3
  new_b, _ = step(state, oracle, jax.random.key(0))
  assert not np.array_equal(new_a.params["classifier"]["head"]["Dense_2"]["bias"],
                            new_b.params["classifier"]["head"]["Dense_2"]["bias"])  # fmt: skip


def test_eval_step_counts_only_unmasked_rows():
  state, _, classifier = _build()
  batch = _batch(3, n=5)["source"]
  batch["mask"] = np.array([1, 1, 1, 0, 0], np.float32)
  method = methods.find("dann")(num_classes=3)
  confusion = steps.eval_step(state, batch, classifier=classifier, method=method, num_labels=3)
  confusion = confusion["confusion"]
  logits, _ = classifier.apply({"params": state.params["classifier"]}, batch["input"], train=False)
  predicted = np.argmax(logits, -1)
  expected = np.zeros((3, 3))
  for label, pred in zip(batch["label"][:3], predicted[:3]):
    expected[label, pred] += 1
  np.testing.assert_array_equal(confusion, expected)
  summary = steps.confusion_summary(expected)
  assert summary["num_examples"] == 3
  assert summary["accuracy"] == pytest.approx(np.trace(expected) / 3)
  np.testing.assert_array_equal(summary["confusion"], expected)


def test_ema_params_follow_the_warmed_up_average():
  state, step, _ = _build(ema_decay=0.99)
  rng = jax.random.key(1)
  state1, _ = step(state, _batch(0), rng)
  # Step 0: decay min(0.99, 1/10) = 0.1, so ema = 0.1 init + 0.9 new.
  want = jax.tree.map(lambda a, p: 0.1 * a + 0.9 * p, state.ema_params, state1.params["classifier"])
  jax.tree.map(lambda w, g: np.testing.assert_allclose(g, w, rtol=1e-6), want, state1.ema_params)
  state2, _ = step(state1, _batch(1), rng)
  # Step 1: decay min(0.99, 2/11).
  d = 2 / 11
  want = jax.tree.map(
    lambda a, p: d * a + (1 - d) * p, state1.ema_params, state2.params["classifier"]
  )
  jax.tree.map(lambda w, g: np.testing.assert_allclose(g, w, rtol=1e-6), want, state2.ema_params)


def test_average_from_keeps_the_uniform_mean_of_the_params_from_that_step_on():
  # The params after the step calls t = 0..3, i.e. at state.step 1..4.
  params = [{"w": jnp.array([float(x)])} for x in (2.0, 6.0, 4.0, 10.0)]
  average = {"w": jnp.array([100.0])}  # The initial weights (state.step 0): not in this mean.
  means = []
  for t, p in enumerate(params):
    average = steps.ema(average, p, jnp.asarray(t), decay=0.0, average_from=2)
    means.append(float(average["w"][0]))
  # At steps 1 and 2 the params; then the means of steps 2-3 and 2-4: (6 + 4) / 2, 20 / 3.
  assert means == pytest.approx([2.0, 6.0, 5.0, 20.0 / 3.0])


@pytest.mark.parametrize(
  "average_from, ema_decay, words",
  [(5, 0.0, "in [0, train.num_steps=5)"), (-2, 0.0, "or -1"), (1, 0.9, "both average")],
)
def test_weight_average_settings_that_cannot_work_are_one_line_errors(
  average_from, ema_decay, words
):
  train = common.base_config().train
  train.num_steps, train.average_from, train.ema_decay = 5, average_from, ema_decay
  with pytest.raises(ConfigError, match=re.escape(words)):
    validate.check_weight_average(train)


def test_without_ema_eval_weights_are_the_params():
  state, step, _ = _build()
  state, _ = step(state, _batch(0), jax.random.key(1))
  jax.tree.map(np.testing.assert_array_equal, state.ema_params, state.params["classifier"])

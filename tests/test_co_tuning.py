"""Co-Tuning: the relation matrix, the soft cross-entropy, the source head from pretraining."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import digits
from tests import helpers
from tljax import checkpoint, core, methods, models
from tljax.errors import ConfigError
from tljax.methods import co_tuning
from tljax.run import build


def test_relation_rows_are_class_means_and_sum_to_one():
  probs = np.array([[0.7, 0.2, 0.1], [0.5, 0.4, 0.1], [0.0, 0.1, 0.9], [0.2, 0.2, 0.6]])
  r = co_tuning.relation(probs, np.array([0, 0, 1, 1]), 3)
  np.testing.assert_allclose(r[0], [0.6, 0.3, 0.1], rtol=1e-6)
  np.testing.assert_allclose(r[1], [0.1, 0.15, 0.75], rtol=1e-6)
  np.testing.assert_allclose(r[2], [1 / 3] * 3, rtol=1e-6)  # No example: uniform.
  np.testing.assert_allclose(r.sum(1), 1.0, rtol=1e-6)


def test_soft_cross_entropy_by_hand_and_its_gradient():
  logits, targets = jnp.array([[0.0, np.log(3.0)]]), jnp.array([[0.5, 0.5]])
  # softmax = (1/4, 3/4): -(0.5 log 1/4 + 0.5 log 3/4)
  expected = -(0.5 * np.log(0.25) + 0.5 * np.log(0.75))
  np.testing.assert_allclose(co_tuning.soft_cross_entropy(logits, targets), [expected], rtol=1e-6)
  grad = jax.grad(lambda z: co_tuning.soft_cross_entropy(z, targets).sum())(logits)
  np.testing.assert_allclose(grad, [[0.25 - 0.5, 0.75 - 0.5]], rtol=1e-5)


def test_source_head_is_the_pretrained_head_and_relates_coarse_target_classes(tmp_path):
  """Pretrained on 10 classes, fine-tuned on 2: the source head keeps 10 outputs."""
  config = digits.get_config("tiny")
  config.method.name = "co_tuning"
  helpers.provide_teacher(config, (28, 28, 3), 10, tmp_path / "start")
  config.model.skip_load = ("head/Dense_2",)  # The target head's output layer is new.
  rng = np.random.default_rng(0)
  x = rng.integers(0, 256, (12, 28, 28, 3), dtype=np.uint8)
  y = np.arange(12) % 2
  sets = {core.SOURCE: {"input": x, "label": y}, core.TARGET: {"input": x}}
  sets[core.TARGET_LABELLED] = {"input": x, "label": y}
  prepared = build.build(config, (28, 28, 3), 2, sets)
  built = prepared
  pretrained = checkpoint.read_classifier(config.model.init_checkpoint)
  for a, b in zip(
    jax.tree.leaves(built.state.params["source_head"]),
    jax.tree.leaves(pretrained["params"]["head"]),
  ):
    np.testing.assert_array_equal(a, b)
  r = np.asarray(prepared.state.method_state["relation"])
  assert r.shape == (2, 10)
  ten_way = models.build_classifier(config.model, 10)  # The pretrained network.
  logits, _ = ten_way.apply(pretrained, x, train=False)
  probs = np.asarray(jax.nn.softmax(logits))
  np.testing.assert_allclose(r, [probs[y == 0].mean(0), probs[y == 1].mean(0)], rtol=1e-5)


def test_needs_the_pretrained_run():
  config = digits.get_config("tiny")
  config.method.name = "co_tuning"
  with pytest.raises(ConfigError, match="fine-tunes from pretrained weights"):
    methods.create(config, 10)
  config.model.torch_weights = "resnet18.pth"
  with pytest.raises(ConfigError, match="carry no tljax head"):
    methods.create(config, 10)

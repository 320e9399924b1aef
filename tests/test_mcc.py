"""MCC: the class confusion of a hand-computed batch; composing it with another method."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks import bench
from configs import digits
from tljax import methods
from tljax.errors import ConfigError
from tljax.methods import mcc
from tljax.run import build


def test_class_confusion_by_hand():
  # Probabilities [0.8, 0.2] and [0.2, 0.8] after temperature scaling: equal entropies, so
  # equal weights (1, 1). C = p1ᵀp1 + p2ᵀp2 = [[0.68, 0.32], [0.32, 0.68]], rows already
  # sum to 1; L = (sum - trace) / K = (2 - 1.36) / 2 = 0.32.
  t = 2.5
  logits = t * jnp.log(jnp.array([[0.8, 0.2], [0.2, 0.8]]))
  np.testing.assert_allclose(mcc.class_confusion(logits, t), 0.32, rtol=1e-5)
  # Confident, different classes: no confusion; identical uniform rows: (K - 1) / K.
  np.testing.assert_allclose(
    mcc.class_confusion(jnp.array([[50.0, 0], [0, 50.0]]), 1.0), 0.0, atol=1e-6
  )
  np.testing.assert_allclose(mcc.class_confusion(jnp.zeros((4, 3)), t), 2 / 3, rtol=1e-6)


def test_certainty_weights_count_confident_rows_more():
  # One confident row of class 0, one uncertain row: the uncertain row spreads mass into
  # the off-diagonal, weighted less than with equal weights.
  logits = jnp.log(jnp.array([[0.99, 0.01], [0.5, 0.5]]))
  p = np.array([[0.99, 0.01], [0.5, 0.5]])
  h = -np.sum(p * np.log(p + 1e-5), axis=1)
  w = 1 + np.exp(-h)
  w = 2 * w / w.sum()
  c = (p * w[:, None]).T @ p
  c = c / c.sum(axis=1, keepdims=True)
  np.testing.assert_allclose(
    mcc.class_confusion(logits, 1.0), (c.sum() - np.trace(c)) / 2, rtol=1e-5
  )


def _built(base_name: str):
  config = digits.get_config("tiny")
  config.method.name = "mcc"
  config.method.mcc.base = base_name
  return config, build.build(config, (28, 28, 3), 10)


def test_mcc_on_top_of_dann_adds_its_term_to_the_dann_loss():
  config, built = _built("dann")
  assert "discriminator" in built.state.params and built.method.streams == ("source", "target")
  batch = bench.synthetic_batch(config, built.method.streams, np.random.default_rng(0))
  _, metrics = built.train_step(built.state, batch, jax.random.key(0))
  dann_loss = metrics["cls_loss"] + config.method.dann.trade_off * metrics["domain_loss"]
  np.testing.assert_allclose(metrics["loss"], dann_loss + metrics["mcc_loss"], rtol=1e-5)
  _, alone = _built("source_only")
  assert alone.method.streams == ("source", "target") and set(alone.state.params) == {"classifier"}


@pytest.mark.parametrize("inner,message", [
  ("mcd", "has its own update"), ("mcc", "would wrap itself"), ("target_only", "target labels"),
])  # fmt: skip
def test_mcc_refuses_bases_it_cannot_wrap(inner, message):
  config = digits.get_config("tiny")
  config.method.name = "mcc"
  config.method.mcc.base = inner
  with pytest.raises(ConfigError, match=message):
    methods.create(config, 10)

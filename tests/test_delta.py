"""DELTA: the attention-weighted feature-map distance, channel attention by ablation, the pull."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks import bench
from configs import digits
from tests import helpers
from tljax import methods, models
from tljax.errors import ConfigError
from tljax.methods import delta


def test_feature_map_distance_by_hand():
  # One example, 2 x 1 positions, 2 channels; start all zeros.
  current = jnp.array([[[[1.0, 2.0]], [[3.0, 0.0]]]])  # [B=1, H=2, W=1, C=2]
  attention = jnp.array([0.25, 0.75])
  # 0.5 * (C a_0 (1 + 9) / HW + C a_1 (4 + 0) / HW) = 0.5 * (2*0.25*10/2 + 2*0.75*4/2) = 2.75
  d = delta.feature_map_distance(current, jnp.zeros_like(current), attention)
  np.testing.assert_allclose(d, [2.75], rtol=1e-6)
  assert float(delta.feature_map_distance(current, current, attention)[0]) == 0.0


def test_attention_is_a_softmax_of_standardised_rises():
  a = delta.attention_from_rises([0.0, 1.0, 3.0])
  np.testing.assert_allclose(a.sum(), 1.0, rtol=1e-6)
  z = (np.array([0.0, 1.0, 3.0]) - 4 / 3) / np.std([0.0, 1.0, 3.0])
  np.testing.assert_allclose(a, np.exp(z / 5) / np.exp(z / 5).sum(), rtol=1e-5)
  np.testing.assert_allclose(delta.attention_from_rises([2.0, 2.0]), [0.5, 0.5])


def test_ablation_finds_the_one_channel_the_head_reads():
  """A head that reads only channel 2 of the tiny backbone: only zeroing it raises the loss."""
  config = digits.get_config("tiny")
  classifier = models.build_classifier(config.model, 2)
  x = jnp.asarray(np.random.default_rng(0).integers(0, 256, (16, 12, 12, 3)), jnp.uint8)
  variables = classifier.init(jax.random.key(0), x, train=False)
  params = jax.tree.map(jnp.zeros_like, variables["params"])
  params["backbone"] = variables["params"]["backbone"]
  params["backbone"]["Conv_0"]["bias"] = jnp.ones(4)  # Every channel > 0 after the ReLU.
  hidden = params["head"]["Dense_0"]["kernel"].at[2, 0].set(1.0)  # Feature 2 -> unit 0 only.
  params["head"]["Dense_0"]["kernel"] = hidden
  params["head"]["Dense_1"]["kernel"] = params["head"]["Dense_1"]["kernel"].at[0, 0].set(1.0)
  params["head"]["Dense_2"]["kernel"] = jnp.array([[5.0] + [0.0] * 99, [-5.0] + [0.0] * 99]).T
  y = jnp.zeros(16, jnp.int32)  # Class 0: helped by feature 2.
  rises = delta.Method._loss_rises(classifier, {"params": params}, x, y, "backbone/Conv_0", 4)
  assert rises[2] > 0.5
  np.testing.assert_allclose(rises[[0, 1, 3]], 0.0, atol=1e-6)
  assert delta.attention_from_rises(rises).argmax() == 2


def _built(tmp_path, trade_off: float):
  config = digits.get_config("tiny")
  config.method.name = "delta"
  config.method.delta.trade_off = trade_off
  helpers.provide_teacher(config, (28, 28, 3), 10, tmp_path / "start")
  return config, helpers.built(config, (28, 28, 3), 10, np.random.default_rng(1))


def test_the_penalty_is_zero_at_the_start_and_holds_the_feature_maps_near_it(tmp_path):
  drift = {}
  for trade_off in (0.0, 50.0):
    config, built = _built(tmp_path / str(trade_off), trade_off)
    rng = np.random.default_rng(0)
    state = built.state
    for step in range(8):
      batch = bench.synthetic_batch(config, built.method.streams, rng)
      state, metrics = built.train_step(state, batch, jax.random.key(step))
      if step == 0:
        assert float(metrics["feature_maps"]) == 0.0  # Measured before the first update.
    drift[trade_off] = float(metrics["feature_maps"])
    attention = state.method_state["attention"]["backbone:Conv_0"]
    np.testing.assert_allclose(float(attention.sum()), 1.0, rtol=1e-5)
  assert 0 < drift[50.0] < 0.5 * drift[0.0], drift


def test_needs_a_pretrained_start_and_layers_that_exist(tmp_path):
  config = digits.get_config("tiny")
  config.method.name = "delta"
  with pytest.raises(ConfigError, match="fine-tunes from pretrained weights"):
    methods.create(config, 10)
  config.method.delta.layers = "^backbone/nothing$"
  helpers.provide_teacher(config, (28, 28, 3), 10, tmp_path / "start")
  with pytest.raises(ConfigError, match="matches no layer"):
    helpers.built(config, (28, 28, 3), 10, np.random.default_rng(0))

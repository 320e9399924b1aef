"""Importance weights: normalisation, clipping, ESS; the biased-selection source."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks import bench
from configs import digits
from tljax import methods
from tljax.data import selection
from tljax.errors import ConfigError
from tljax.methods import iw_erm
from tljax.run import build


def test_weights_are_the_clipped_density_ratio_with_mean_one():
  logits = jnp.log(jnp.array([0.5, 1.0, 2.0, 100.0]))  # p_t/p_s of each source example.
  w = iw_erm.normalized_weights(logits, clip=10.0)
  expected = np.array([0.5, 1.0, 2.0, 10.0]) / np.mean([0.5, 1.0, 2.0, 10.0])
  np.testing.assert_allclose(w, expected, rtol=1e-6)
  assert abs(float(w.mean()) - 1) < 1e-6


def test_effective_sample_size_by_hand():
  assert float(iw_erm.effective_sample_size(jnp.ones(8))) == 1.0
  assert abs(float(iw_erm.effective_sample_size(jnp.array([4.0, 0, 0, 0]))) - 0.25) < 1e-7
  w = jnp.array([1.0, 3.0])  # (1 + 3)^2 / (2 (1 + 9)) = 0.8
  assert abs(float(iw_erm.effective_sample_size(w)) - 0.8) < 1e-7


def test_selection_keeps_heavy_strokes_within_each_class():
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (2000, 4, 4, 1)).astype(np.uint8)
  labels = rng.integers(0, 2, 2000)
  p = selection.keep_probability(images, labels, strength=3.0)
  mass = selection.stroke_mass(images)
  for c in (0, 1):
    members = labels == c
    assert np.corrcoef(mass[members], p[members])[0, 1] > 0.9
  kept = selection.biased_sample({"input": images, "label": labels}, 3.0)
  assert 0.3 < len(kept["label"]) / 2000 < 0.7
  assert selection.stroke_mass(kept["input"]).mean() > mass.mean()
  again = selection.biased_sample({"input": images, "label": labels}, 3.0)
  np.testing.assert_array_equal(again["label"], kept["label"])  # One fixed draw.


def test_the_domain_classifier_reads_pooled_inputs_when_asked():
  config = digits.get_config("tiny")
  config.method.name = "iw_erm"
  config.method.iw_erm.on = "inputs"
  built = build.build(config, (28, 28, 3), num_classes=10)
  kernel = built.state.params["domain"]["MLP_0"]["Dense_0"]["kernel"]
  assert kernel.shape == (8 * 8 * 3, 1)  # 8 x 8 pooled pixels per channel, not the features.
  batch = bench.synthetic_batch(config, built.method.streams, np.random.default_rng(0))
  state, metrics = built.train_step(built.state, batch, jax.random.key(0))
  assert np.isfinite(float(metrics["domain_loss"])) and 0 < float(metrics["ess"]) <= 1
  assert iw_erm.pooled_size((500,)) == 500  # A bag of words as it is.
  config.method.iw_erm.on = "pixels"
  with pytest.raises(ConfigError, match="on='pixels' must be one of"):
    methods.create(config, 10)

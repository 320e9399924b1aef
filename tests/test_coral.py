"""Deep CORAL: zero for equal covariances, the paper's normalisation, the gradient's sign."""

import jax
import jax.numpy as jnp
import numpy as np

from tljax.methods import coral


def test_zero_when_covariances_are_equal_and_mean_shifts_do_not_count():
  x = jax.random.normal(jax.random.key(0), (32, 5))
  np.testing.assert_allclose(coral.coral_loss(x, x + 3.0), 0.0, atol=1e-10)
  rotation = jnp.linalg.qr(jax.random.normal(jax.random.key(1), (5, 5)))[0]
  assert coral.coral_loss(x, x @ rotation) > 1e-3  # Same spread, other directions.


def test_matches_a_numpy_reference():
  rng = np.random.default_rng(0)
  s, t = rng.normal(size=(20, 4)), rng.normal(size=(16, 4)) * 2.0
  expected = np.sum((np.cov(s, rowvar=False) - np.cov(t, rowvar=False)) ** 2) / (4 * 4**2)
  np.testing.assert_allclose(coral.coral_loss(jnp.array(s), jnp.array(t)), expected, rtol=1e-5)


def test_gradient_sign_on_one_feature_by_hand():
  # 1-d features, target = a x: loss = (v_s - a² v_x)² / 4, so
  # d loss / d a = -(v_s - a² v_x) a v_x: > 0 once the target spreads wider than the source.
  s = jnp.array([[-1.0], [0.0], [1.0]])  # v_s = 1
  x = jnp.array([[-2.0], [0.0], [2.0]])  # v_x = 4
  grad = jax.grad(lambda a: coral.coral_loss(s, a * x))
  for a in (0.25, 0.5, 1.0):
    np.testing.assert_allclose(grad(a), -(1.0 - a * a * 4.0) * a * 4.0, rtol=1e-5)
  assert grad(0.25) < 0 < grad(1.0)  # Too narrow: widen it; too wide: narrow it.
  assert abs(grad(0.5)) < 1e-6  # a = 1/2 matches the source's variance.

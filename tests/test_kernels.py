"""MMD estimates against a plain numpy reference; DAN's paper kernels; JAN's joint kernel."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tljax.losses import kernels
from tljax.methods import dan, jan


def _gauss(x, y, sigma2s):
  return sum(np.exp(-np.sum((x - y) ** 2) / (2 * s)) for s in sigma2s)


def _reference_mmd2(s, t, multipliers, estimator):
  """Loops over pairs, as in Gretton et al. 2012 (Eq. 3, Lemma 6 and Lemma 14)."""
  z = np.concatenate([s, t])
  n = len(s)
  pairs = [np.sum((a - b) ** 2) for a, b in itertools.permutations(z, 2)]
  sigma2s = [m * np.mean(pairs) for m in multipliers]
  k = lambda a, b: _gauss(a, b, sigma2s) / len(multipliers)  # noqa: E731
  if estimator == "linear":
    h = [
      k(s[2 * i], s[2 * i + 1]) + k(t[2 * i], t[2 * i + 1])
      - k(s[2 * i], t[2 * i + 1]) - k(s[2 * i + 1], t[2 * i])
      for i in range(n // 2)
    ]  # fmt: skip
    return np.mean(h)
  same = lambda a: [
    k(a[i], a[j]) for i in range(n) for j in range(n) if i != j or estimator == "biased"
  ]  # noqa: E501, E731
  cross = np.mean([k(a, b) for a in s for b in t])
  return np.mean(same(s)) + np.mean(same(t)) - 2 * cross


def test_paper_kernel_family_spans_2_pow_minus_8_to_8_in_half_steps():
  m = np.array(dan.PAPER_MULTIPLIERS)
  assert len(m) == 33 and m[0] == 2.0**-8 and m[-1] == 2.0**8
  np.testing.assert_allclose(m[1:] / m[:-1], np.sqrt(2.0))


@pytest.mark.parametrize("estimator", kernels.ESTIMATORS)
def test_mk_mmd_matches_reference_zero_for_itself_positive_for_a_shift(estimator):
  rng = np.random.default_rng(0)
  s, t = rng.normal(size=(8, 3)), rng.normal(size=(8, 3))
  got = dan.mk_mmd2(jnp.array(s), jnp.array(t), estimator)
  want = _reference_mmd2(s, t, dan.PAPER_MULTIPLIERS, estimator)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
  if estimator != "unbiased":  # The U-statistic of a sample with itself is not 0: it
    # drops k(x_i, x_i) within the sample but not across; same-law samples test it below.
    itself = dan.mk_mmd2(jnp.array(s), jnp.array(s), estimator)
    np.testing.assert_allclose(itself, 0.0, atol=1e-6)
  big = rng.normal(size=(64, 3))
  shifted = dan.mk_mmd2(jnp.array(big), jnp.array(big + 1.5), estimator)
  same_law = dan.mk_mmd2(jnp.array(big), jnp.array(rng.normal(size=(64, 3))), estimator)
  assert shifted > 0.05 and shifted > 5 * abs(same_law), (shifted, same_law)


def test_bandwidth_gets_no_gradient_but_features_do():
  x = jax.random.normal(jax.random.key(0), (6, 2))
  grad = jax.grad(lambda z: kernels.gaussian_kernel(z, (1.0,)).sum())(x)
  # With the bandwidth constant, moving every point by the same vector changes nothing.
  np.testing.assert_allclose(grad.sum(axis=0), 0.0, atol=1e-5)
  assert np.abs(grad).max() > 1e-3


def test_jmmd_sees_a_changed_class_conditional_that_marginal_mmd_misses():
  rng = np.random.default_rng(1)
  f = jnp.array(rng.normal(size=(32, 4)))
  labels = rng.integers(0, 3, 32)
  g = jax.nn.one_hot(labels, 3)
  g_swapped = jax.nn.one_hot((labels + 1) % 3, 3)  # Same features, other classes.
  # Feature marginals identical: zero MMD on features alone ...
  np.testing.assert_allclose(dan.mk_mmd2(f, f, "biased"), 0.0, atol=1e-6)
  # ... but the joint (features, predictions) distributions differ.
  assert jan.jmmd2((f, g), (f, g_swapped), "biased") > 0.05
  np.testing.assert_allclose(jan.jmmd2((f, g), (f, g), "biased"), 0.0, atol=1e-6)

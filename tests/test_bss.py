"""BSS penalises only the k smallest singular values of the feature batch."""

import jax
import jax.numpy as jnp
import numpy as np

from tljax.methods import bss


def test_penalty_is_the_k_smallest_squared_singular_values():
  rng = np.random.default_rng(0)
  u, _ = np.linalg.qr(rng.normal(size=(8, 4)))
  v, _ = np.linalg.qr(rng.normal(size=(4, 4)))
  sigma = np.array([5.0, 3.0, 2.0, 0.5])
  f = jnp.asarray(u @ np.diag(sigma) @ v.T, jnp.float32)
  np.testing.assert_allclose(bss.spectral_penalty(f, 1), 0.25, rtol=1e-4)
  np.testing.assert_allclose(bss.spectral_penalty(f, 2), 4.25, rtol=1e-4)
  # d/dF sigma_min^2 = 2 sigma_min u_min v_min^T: it moves F only along the smallest direction.
  grad = np.asarray(jax.grad(bss.spectral_penalty)(f, 1))
  expected = 2 * 0.5 * np.outer(u[:, 3], v[:, 3])
  np.testing.assert_allclose(grad, expected, atol=1e-4)
  for i in range(3):  # The larger directions get no gradient.
    assert abs(u[:, i] @ grad @ v[:, i]) < 1e-4

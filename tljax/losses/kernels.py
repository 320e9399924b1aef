"""Gaussian kernels and maximum mean discrepancy estimates (Gretton et al., JMLR 2012).

For samples S = (s_1..s_n) and T = (t_1..t_n) and a kernel k,

    MMD²(S, T) = E k(s, s') + E k(t, t') - 2 E k(s, t).

`mmd2` estimates it three ways: "biased" (the V-statistic: every pair,
diagonals included; >= 0), "unbiased" (the U-statistic: diagonals excluded)
and "linear" (the linear-time unbiased estimate over quadruples
(s_2i-1, s_2i, t_2i-1, t_2i), Gretton et al. 2012, Lemma 14, which DAN and
JAN train with). Kernels here are sums of Gaussians

    k(x, y) = Σ_u exp(-|x - y|² / (2 σ_u²)),  σ_u² = m_u · mean_{i≠j} |z_i - z_j|²

with the mean taken over the pooled batch z = [S; T] and treated as a
constant (no gradient), as in DAN's and JAN's released code.
"""

import jax
import jax.numpy as jnp

ESTIMATORS = ("linear", "unbiased", "biased")


def squared_distances(z: jax.Array) -> jax.Array:
  """|z_i - z_j|² for rows of z [N, D] -> [N, N] (>= 0, exact zeros on the diagonal)."""
  sq = jnp.sum(z * z, axis=-1)
  d = sq[:, None] + sq[None, :] - 2.0 * z @ z.T
  return jnp.maximum(d, 0.0) * (1.0 - jnp.eye(z.shape[0], dtype=z.dtype))


def gaussian_kernel(z: jax.Array, multipliers, sigma_squared: float | None = None) -> jax.Array:
  """Σ_u exp(-|z_i - z_j|² / (2 m_u s)) for rows of z [N, D] -> [N, N].

  s is `sigma_squared` if given, else the mean squared distance between
  distinct rows (stop-gradient: the bandwidth adapts to the features' scale
  but is not itself trained).
  """
  d = squared_distances(z)
  n = z.shape[0]
  if sigma_squared is None:
    scale = jax.lax.stop_gradient(d.sum() / (n * (n - 1)))
  else:
    scale = jnp.asarray(sigma_squared, z.dtype)
  return sum(jnp.exp(-d / (2.0 * m * scale)) for m in multipliers)


def mmd2(kernel: jax.Array, num_source: int, estimator: str = "linear") -> jax.Array:
  """MMD² from a kernel matrix [2n, 2n] over [S; T] with n = `num_source` rows each."""
  n = num_source
  if kernel.shape[0] != 2 * n:
    raise ValueError(f"MMD needs as many target as source rows; got {n} + {kernel.shape[0] - n}")
  k_ss, k_tt, k_st = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
  if estimator == "biased":
    return k_ss.mean() + k_tt.mean() - 2.0 * k_st.mean()
  if estimator == "unbiased":
    off = 1.0 - jnp.eye(n, dtype=kernel.dtype)
    within = ((k_ss + k_tt) * off).sum() / (n * (n - 1))
    return within - 2.0 * k_st.mean()
  if estimator == "linear":
    if n < 2:
      raise ValueError("the linear-time MMD estimate needs at least 2 rows per domain")
    i = jnp.arange(n // 2) * 2
    j = i + 1
    h = k_ss[i, j] + k_tt[i, j] - k_st[i, j] - k_st[j, i]
    return h.mean()
  raise ValueError(f"unknown MMD estimator {estimator!r}; choose one of {list(ESTIMATORS)}")

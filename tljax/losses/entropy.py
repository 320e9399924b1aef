"""Prediction entropy and the certainty weights built on it (CDAN+E, MCC; SHOT and Tent next)."""

import jax
import jax.numpy as jnp

EPS = 1e-5  # Inside the log, as the reference implementations (TLlib) add it.


def entropy(probs: jax.Array) -> jax.Array:
  """H(p) = -sum_k p_k log(p_k + eps) per row of probabilities [N, K] -> [N]."""
  return -jnp.sum(probs * jnp.log(probs + EPS), axis=-1)


def certainty(probs: jax.Array) -> jax.Array:
  """1 + exp(-H(p)) per row [N]: between 1 (uniform) and 2 (one-hot), no gradient."""
  return jax.lax.stop_gradient(1.0 + jnp.exp(-entropy(probs)))

"""Prediction entropy, the certainty weights built on it (CDAN+E, MCC) and information
maximisation (SHOT)."""

import jax
import jax.numpy as jnp

EPS = 1e-5  # Inside the log, as the reference implementations (TLlib) add it.


def entropy(probs: jax.Array) -> jax.Array:
  """H(p) = -sum_k p_k log(p_k + eps) per row of probabilities [N, K] -> [N]."""
  return -jnp.sum(probs * jnp.log(probs + EPS), axis=-1)


def certainty(probs: jax.Array) -> jax.Array:
  """1 + exp(-H(p)) per row [N]: between 1 (uniform) and 2 (one-hot), no gradient."""
  return jax.lax.stop_gradient(1.0 + jnp.exp(-entropy(probs)))


def information_maximisation(probs: jax.Array, diversity: float = 1.0):
  """SHOT's L_im on probabilities [N, K]: (loss, mean entropy, diversity).

  L_im = mean_x H(p(x)) - diversity * H(mean_x p(x)): confident predictions
  (low entropy each) that use every class (high entropy of the average).
  """
  confidence = entropy(probs).mean()
  spread = entropy(probs.mean(0))
  return confidence - diversity * spread, confidence, spread

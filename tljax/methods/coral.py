"""Deep CORAL: Sun & Saenko, ECCV 2016 workshops, arXiv:1607.01719.

    L = L_task(source) + trade_off * ℓ_CORAL,   ℓ_CORAL = |C_S - C_T|²_F / (4 d²)

C_S and C_T are the d × d covariance matrices of the source and target
features in the batch, C = (Fᵀ F - (1ᵀ F)ᵀ (1ᵀ F) / n) / (n - 1). Aligning the
second-order statistics needs no extra network.

Recipe: the paper aligns the last layer of AlexNet and sets λ so that the
classification and CORAL losses are about equal at the end of training; it
has no digits experiment. tljax aligns the backbone features (the digits
network's 768) with the same normalisation, and λ = 1000 by that label-free
rule on the embedded digits (2,500 steps, seed 0, training losses only): at
the end the classification loss was 0.0089 and λ·ℓ_CORAL 0.0084. (λ = 1 also
balances them, 0.0040 and 0.0040, but leaves the covariances 470x further
apart, ℓ_CORAL 4.0e-3 against 8.4e-6, so the term would hardly act.)
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core


def covariance(features: jax.Array) -> jax.Array:
  """Unbiased covariance of the rows of features [n, d] -> [d, d]."""
  centred = features - features.mean(axis=0, keepdims=True)
  return centred.T @ centred / (features.shape[0] - 1)


def coral_loss(source: jax.Array, target: jax.Array) -> jax.Array:
  """|C_S - C_T|²_F / (4 d²) for features [n_s, d], [n_t, d]."""
  d = source.shape[-1]
  diff = covariance(source) - covariance(target)
  return jnp.sum(diff * diff) / (4.0 * d * d)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Deep CORAL: source cross-entropy + covariance alignment of the features."""

  streams = (core.SOURCE, core.TARGET)
  labels = {"coral_loss": "coral"}
  searched = {"trade_off": (-1, 1, False)}  # DomainBed's search (tljax/run/trials.py).

  trade_off: float = core.setting(1000.0, core.NON_NEGATIVE)

  def loss(self, out):
    cls_loss, metrics = core.supervised(out, core.SOURCE)
    coral = coral_loss(out.features[core.SOURCE], out.features[core.TARGET])
    return cls_loss + self.trade_off * coral, {**metrics, "coral_loss": coral}

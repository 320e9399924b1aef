"""Batch Spectral Shrinkage (BSS): Chen et al., NeurIPS 2019, "Catastrophic Forgetting
Meets Negative Transfer".

    L = L_task(labelled target) + trade_off * sum_{i=1..k} sigma_{-i}(F)^2

F [B, D] holds the batch's features and sigma_{-i} its i-th smallest singular
value: fine-tuning with few labels amplifies the small spectral components
the pretrained features carry that do not transfer; shrinking the k smallest
suppresses them. Used as the `bss` mode of `experiments.finetune` (target
labels, a pretrained start). The paper's recipe: k = 1, trade_off 0.001.
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core


def spectral_penalty(features: jax.Array, k: int) -> jax.Array:
  """Sum of the squares of the k smallest singular values of features [B, D]."""
  sigma = jnp.linalg.svd(features, compute_uv=False)  # Descending.
  return (sigma[-k:] ** 2).sum()


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Cross-entropy on labelled target images plus the BSS penalty."""

  streams = (core.TARGET_LABELLED,)
  labels = {"bss": "bss"}

  trade_off: float = core.setting(0.001, core.NON_NEGATIVE)
  k: int = core.setting(1, core.POSITIVE_INT)

  def loss(self, out):
    loss, metrics = core.supervised(out, core.TARGET_LABELLED)
    penalty = spectral_penalty(out.features[core.TARGET_LABELLED], self.k)
    return loss + self.trade_off * penalty, {**metrics, "bss": penalty}

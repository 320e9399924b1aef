"""EATA's sample selection for Tent: Niu et al., ICML 2022, arXiv:2204.02610.

Tent on long target streams can collapse: confident mistakes lower the
entropy and feed on themselves until one class wins. EATA adapts on
reliable, non-redundant examples only, weighted by their certainty:

    keep x if H(x) < E0 = e0 * log K   (reliable)
      and |cos(p(x), m)| < margin       (not redundant; m: running mean of kept predictions)
    L = Σ_kept exp(E0 - H(x)) H(x) / batch size

BatchNorm scale and shift only, as Tent; the running mean m lives in
`state.method_state`.

Changed from the paper: no Fisher anti-forgetting term (it needs in-
distribution samples, and tljax's test-time setting has no source data:
this is the paper's "ETA"); the redundancy margin defaults to 1 (off),
since the paper's 0.05 is for 1,000 ImageNet classes and few 10-class
probability vectors are that orthogonal to their mean.
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.losses.entropy import entropy
from tljax.methods import tent


def selection_weights(probs: jax.Array, mean: jax.Array, e0: float, margin: float) -> jax.Array:
  """Per-example weights [N]: exp(E0 - H) where reliable and not redundant, else 0 (no gradient)."""
  h = entropy(probs)
  bound = e0 * jnp.log(probs.shape[-1])
  cos = (probs @ mean) / (jnp.linalg.norm(probs, axis=-1) * jnp.linalg.norm(mean) + 1e-12)
  keep = (h < bound) & (jnp.abs(cos) < margin)
  return jax.lax.stop_gradient(jnp.where(keep, jnp.exp(bound - h), 0.0))


@dataclasses.dataclass(frozen=True)
class Method(tent.Method):
  """Tent's setting; certainty-weighted entropy on reliable, non-redundant target examples."""

  labels = {"entropy": "ent", "kept": "kept"}

  e0: float = core.setting(0.4, (lambda v: 0 < v <= 1, "in (0, 1]"))
  margin: float = core.setting(1.0, (lambda v: 0 < v <= 1, "in (0, 1]"))
  momentum: float = core.setting(0.9, (lambda v: 0 <= v < 1, "in [0, 1)"))

  def init(self, rng, logits, features) -> core.Extras:
    del rng, features
    k = logits.shape[-1]
    return core.Extras(state={"mean": jnp.full((k,), 1.0 / k, jnp.float32)})

  def loss(self, out):
    logits = out.logits[core.TARGET]
    probs = jax.nn.softmax(logits)
    mean = out.method_state["mean"]
    w = selection_weights(jax.lax.stop_gradient(probs), mean, self.e0, self.margin)
    kept = (w > 0).astype(jnp.float32)
    ent = entropy(probs)
    loss = (w * ent).sum() / logits.shape[0]
    kept_mean = (kept[:, None] * jax.lax.stop_gradient(probs)).sum(0) / jnp.maximum(kept.sum(), 1)
    new_mean = jnp.where(
      kept.sum() > 0, self.momentum * mean + (1 - self.momentum) * kept_mean, mean
    )
    out.method_state = {**out.method_state, "mean": new_mean}
    return loss, {
      "entropy": ent.mean(),
      "kept": kept.mean(),
      "predictions": jnp.argmax(logits, -1),
    }

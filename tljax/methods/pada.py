"""PADA, partial adversarial domain adaptation: Cao et al., ECCV 2018, arXiv:1808.04205.

When the target holds only some of the source's classes, DANN aligns the
whole source with the target and pulls the source-only classes onto target
examples (negative transfer). PADA down-weights those classes: the class
weights γ are the mean target prediction, normalised by its largest entry,

    γ = mean_{x ∈ target} softmax(C(G(x)));  γ <- γ / max(γ)
    L = Σ_i γ_{y_i} CE(x_i^s) / n_s + trade_off * L_domain(γ-weighted source ∪ target)

so a class the target never looks like gets a small weight in both the
source classification loss and the source half of the domain loss.

Recipe: the paper's (trade-off 1, DANN's GRL schedule) except that γ is a
running mean over the steps' target batches (`momentum` 0.99, starting
uniform) instead of a pass over the whole target set every few hundred
steps; it is kept in `state.method_state` and checkpointed.
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.core import classification
from tljax.losses import adversarial
from tljax.losses.grl import GRLSchedule


def class_weights(target_probs: jax.Array) -> jax.Array:
  """γ from target predictions [N, K]: their mean, divided by its largest entry."""
  mean = target_probs.mean(axis=0)
  return mean / jnp.maximum(mean.max(), 1e-12)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """DANN whose source terms are weighted by the target's class weights."""

  streams = (core.SOURCE, core.TARGET)
  labels = {**adversarial.LABELS, "min_class_weight": "γmin"}

  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)
  grl_gamma: float = core.setting(10.0, core.NON_NEGATIVE)
  grl_max: float = core.setting(1.0, core.NON_NEGATIVE)
  discriminator_hidden: tuple[int, ...] = core.setting((100,), core.WIDTHS)
  momentum: float = core.setting(0.99, (lambda v: 0 <= v < 1, "in [0, 1)"))

  @property
  def discriminator(self):
    return adversarial.discriminator(self.discriminator_hidden, self.model)

  def init(self, rng, logits, features) -> core.Extras:
    params, batch_stats = core.init_network(self.discriminator, rng, features)
    mean = jnp.full((self.num_classes,), 1.0 / self.num_classes, jnp.float32)
    return core.Extras({"discriminator": params}, {"discriminator": batch_stats}, {"mean": mean})

  def monitors(self) -> list:
    return [adversarial.CollapseMonitor(method=self.name)]

  def loss(self, out):
    probs = jax.lax.stop_gradient(jax.nn.softmax(out.logits[core.TARGET]))
    mean = self.momentum * out.method_state["mean"] + (1 - self.momentum) * probs.mean(axis=0)
    out.method_state = {**out.method_state, "mean": mean}
    gamma = mean / jnp.maximum(mean.max(), 1e-12)
    logits, labels = out.logits[core.SOURCE], out.batch[core.SOURCE]["label"]
    w_source = gamma[labels]
    cls_loss = (w_source * classification.cross_entropy(logits, labels)).mean()
    n_source, n_target = logits.shape[0], out.features[core.TARGET].shape[0]
    weights = jnp.concatenate(  # Each domain's weights sum to its size (`domain_terms`).
      [w_source / jnp.maximum(w_source.mean(), 1e-12), jnp.ones((n_target,))]
    )
    coeff = GRLSchedule(self.num_steps, self.grl_gamma, self.grl_max)(out.step)
    domain, domain_metrics = adversarial.domain_terms(
      lambda f: out.apply("discriminator", self.discriminator, f),
      jnp.concatenate([out.features[core.SOURCE], out.features[core.TARGET]]),
      n_source,
      coeff,
      weights,
    )
    return cls_loss + self.trade_off * domain, {
      "cls_loss": cls_loss,
      "accuracy": classification.correct(logits, labels).mean(),
      **domain_metrics,
      "grl_coeff": coeff,
      "min_class_weight": gamma.min(),
    }

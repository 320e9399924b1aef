"""MDD, margin disparity discrepancy: Zhang, Liu, Long & Jordan, ICML 2019, arXiv:1904.05801.

    L = L_task(source) + trade_off * D_γ,
    D_γ = γ · CE(h'(f_S), ŷ_S) - log(1 - softmax(h'(f_T))[ŷ_T])

An adversarial head h' (the classifier head's architecture) reads the
features through the gradient reversal layer; ŷ = argmax of the main head h
(no gradient). h' minimises D_γ: it agrees with h on the source and disagrees
with it on the target. The features, through the GRL, maximise D_γ with it, so
the margin disparity between the domains shrinks. γ (`margin`) > 1 weighs the
source agreement more (the paper's margin).

Recipe: Transfer-Learning-Library's (the paper has no digits experiment):
γ = 4, trade-off 1, and the GRL coefficient rising to 0.1 (`grl_max`) on
DANN's schedule shape (γ_GRL = 10 over the run).
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp

from tljax import core
from tljax.core import classification
from tljax.losses.grl import GRLSchedule, gradient_reversal
from tljax.models.heads import MLP


def margin_disparity(
  logits_s, adv_logits_s, logits_t, adv_logits_t, margin: float
) -> tuple[jax.Array, jax.Array]:
  """(γ · CE(h'(f_S), ŷ_S), -log(1 - p'_T[ŷ_T])), batch means; ŷ = argmax of the main head."""
  pred_s = jnp.argmax(logits_s, axis=-1)
  pred_t = jnp.argmax(logits_t, axis=-1)
  source = margin * classification.cross_entropy(adv_logits_s, pred_s).mean()
  p_t = jnp.take_along_axis(jax.nn.softmax(adv_logits_t), pred_t[:, None], axis=-1)[:, 0]
  target = -jnp.log(jnp.clip(1.0 - p_t + 1e-6, max=1.0)).mean()
  return source, target


def adversarial_head(model, num_classes: int) -> nn.Module:
  """A head like the classifier's (`config.model.head_hidden`, dropout, norm), for h'."""
  if model is None:
    return MLP((100, 100), num_classes)
  return MLP(tuple(model.head_hidden), num_classes, model.dropout, model.norm)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """MDD: source cross-entropy + margin disparity with an adversarial head behind the GRL."""

  streams = (core.SOURCE, core.TARGET)
  labels = {"disparity": "mdd", "grl_coeff": "λ"}

  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)
  margin: float = core.setting(4.0, core.POSITIVE)
  grl_gamma: float = core.setting(10.0, core.NON_NEGATIVE)
  grl_max: float = core.setting(0.1, core.NON_NEGATIVE)

  @property
  def grl(self) -> GRLSchedule:
    return GRLSchedule(self.num_steps, self.grl_gamma, self.grl_max)

  @property
  def head(self) -> nn.Module:
    return adversarial_head(self.model, self.num_classes)

  def init(self, rng, logits, features) -> core.Extras:
    params, batch_stats = core.init_network(self.head, rng, features)
    return core.Extras({"adversarial_head": params}, {"adversarial_head": batch_stats})

  def loss(self, out):
    cls_loss, metrics = core.supervised(out, core.SOURCE)
    coeff = self.grl(out.step)
    s, t = core.SOURCE, core.TARGET
    n = out.features[s].shape[0]
    features = gradient_reversal(jnp.concatenate([out.features[s], out.features[t]]), coeff)
    adv = out.apply("adversarial_head", self.head, features)
    source, target = margin_disparity(out.logits[s], adv[:n], out.logits[t], adv[n:], self.margin)
    disparity = source + target
    return cls_loss + self.trade_off * disparity, {
      **metrics,
      "disparity": disparity,
      "disparity_source": source,
      "disparity_target": target,
      "grl_coeff": coeff,
    }

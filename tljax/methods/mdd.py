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

from tljax.methods import base, classification, schedules
from tljax.methods.grl import gradient_reversal
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
  """A head like the classifier's (`config.model.head_hidden`), for h'."""
  return MLP(tuple(model.head_hidden), num_classes, model.dropout, model.norm)


@dataclasses.dataclass(frozen=True)
class Method(base.Method):
  """MDD: source cross-entropy + margin disparity with an adversarial head behind the GRL."""

  streams = (base.SOURCE, base.TARGET)
  defaults = {"trade_off": 1.0, "margin": 4.0, "grl_gamma": 10.0, "grl_max": 0.1}
  labels = {"disparity": "mdd", "grl_coeff": "λ"}

  trade_off: float = 1.0
  margin: float = 4.0
  grl: schedules.GRLSchedule = schedules.GRLSchedule()
  head: nn.Module = MLP((100,), 10)

  @classmethod
  def create(cls, setup: base.Setup) -> "Method":
    return cls(
      trade_off=setup.get("trade_off", base.NON_NEGATIVE),
      margin=setup.get("margin", base.POSITIVE),
      grl=schedules.GRLSchedule.create(setup),
      head=adversarial_head(setup.model, setup.num_classes),
    )

  def init(self, rng, logits, features) -> base.Extras:
    params, batch_stats = base.init_network(self.head, rng, features)
    return base.Extras({"adversarial_head": params}, {"adversarial_head": batch_stats})

  def loss(self, out):
    cls_loss, metrics = base.supervised(out, base.SOURCE)
    coeff = self.grl(out.step)
    s, t = base.SOURCE, base.TARGET
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

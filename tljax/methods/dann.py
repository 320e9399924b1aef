"""Domain-adversarial training (DANN): Ganin et al., JMLR 2016, arXiv:1505.07818.

    L = L_task(source) + trade_off * L_domain(source ∪ target)

The domain discriminator d sees features through the gradient reversal layer,
so one gradient step lowers L_domain in d's parameters and raises it (scaled by
the GRL coefficient λ_p) in the feature extractor's. L_domain is the binary
cross-entropy of d's logit, with domain label 0 = source and 1 = target, the
two domains weighted equally. λ_p = grl_max (2 / (1 + exp(-grl_gamma p)) - 1)
over training progress p (the paper's schedule, γ = 10).

Recipe: the paper's (trade-off 1, γ = 10, λ up to 1, a 100-unit domain
classifier; tljax's digits recipe widens it to 500-500, `discriminator_hidden`).
The domain terms are shared with CDAN (`tljax.losses.adversarial`).
"""

import dataclasses

import jax.numpy as jnp

from tljax import core
from tljax.losses import adversarial
from tljax.losses.grl import GRLSchedule


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """DANN: source cross-entropy + adversarial domain loss behind the GRL."""

  streams = (core.SOURCE, core.TARGET)
  labels = adversarial.LABELS
  searched = {"trade_off": (-2, 2, False)}  # DomainBed's search (tljax/run/trials.py).

  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)
  grl_gamma: float = core.setting(10.0, core.NON_NEGATIVE)
  grl_max: float = core.setting(1.0, core.NON_NEGATIVE)
  discriminator_hidden: tuple[int, ...] = core.setting((100,), core.WIDTHS)

  @property
  def grl(self) -> GRLSchedule:
    return GRLSchedule(self.num_steps, self.grl_gamma, self.grl_max)

  @property
  def discriminator(self):
    return adversarial.discriminator(self.discriminator_hidden, self.model)

  def init(self, rng, logits, features) -> core.Extras:
    params, batch_stats = core.init_network(self.discriminator, rng, features)
    return core.Extras({"discriminator": params}, {"discriminator": batch_stats})

  def monitors(self) -> list:
    return [adversarial.CollapseMonitor(method=self.name)]

  def loss(self, out):
    cls_loss, metrics = core.supervised(out, core.SOURCE)
    coeff = self.grl(out.step)
    features = jnp.concatenate([out.features[core.SOURCE], out.features[core.TARGET]])
    domain, domain_metrics = adversarial.domain_terms(
      lambda f: out.apply("discriminator", self.discriminator, f),
      features,
      out.features[core.SOURCE].shape[0],
      coeff,
    )
    return cls_loss + self.trade_off * domain, {**metrics, **domain_metrics, "grl_coeff": coeff}

"""Multi-source DANN: a domain classifier over every source domain and the target.

    L = L_task(sources) + trade_off * mean_{e ∈ sources ∪ {target}} CE(d(GRL(f)), e)

DANN (Ganin et al., JMLR 2016, arXiv:1505.07818) with its binary domain
classifier replaced by an (S + 1)-way one: S source domains
(`--config.data.source=a,b,c`, each example's "domain") and the target, the
cross-entropy of each domain's rows averaged, then the domains averaged, so
each counts equally. Behind the gradient reversal layer the features are
pushed to hide which of all the domains an example comes from, sources from
each other as well as from the target (as in Zhao et al. 2018's MDAN
discussion; this is not MDAN's per-source discriminators and soft max).
`dann` on the same sources is the "sources pooled" baseline: one source
domain against the target.

Recipe: DANN's (trade-off 1, λ_p schedule γ = 10 up to 1, the discriminator
widths of `config.method.multi_dann.discriminator_hidden`).
"""

import dataclasses

import jax.numpy as jnp

from tljax import core
from tljax.core import classification
from tljax.losses import adversarial, groups
from tljax.losses.grl import GRLSchedule, gradient_reversal


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """DANN with one domain classifier over the source domains and the target."""

  streams = (core.SOURCE, core.TARGET)
  labels = {"domain_loss": "dom", "domain_accuracy": "dacc", "grl_coeff": "λ"}
  searched = {"trade_off": (-2, 2, False)}  # DomainBed's search (tljax/run/trials.py).

  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)
  grl_gamma: float = core.setting(10.0, core.NON_NEGATIVE)
  grl_max: float = core.setting(1.0, core.NON_NEGATIVE)
  discriminator_hidden: tuple[int, ...] = core.setting((100,), core.WIDTHS)

  @property
  def discriminator(self):
    return adversarial.discriminator(
      self.discriminator_hidden, self.model, outputs=self.domains + 1
    )

  def init(self, rng, logits, features) -> core.Extras:
    params, batch_stats = core.init_network(self.discriminator, rng, features)
    return core.Extras({"discriminator": params}, {"discriminator": batch_stats})

  def loss(self, out):
    cls_loss, metrics = core.supervised(out, core.SOURCE)
    coeff = GRLSchedule(self.num_steps, self.grl_gamma, self.grl_max)(out.step)
    source, target = out.features[core.SOURCE], out.features[core.TARGET]
    labels = jnp.concatenate(
      [
        groups.source_domains(out.batch, self.domains),
        jnp.full((target.shape[0],), self.domains, jnp.int32),  # The target: domain S.
      ]
    )
    features = gradient_reversal(jnp.concatenate([source, target]), coeff)
    logits = out.apply("discriminator", self.discriminator, features)
    per_domain = groups.group_means(
      classification.cross_entropy(logits, labels), labels, self.domains + 1
    )
    domain_loss = per_domain.mean()
    hits = (jnp.argmax(logits, -1) == labels).astype(jnp.float32)
    metrics = {
      **metrics,
      "domain_loss": domain_loss,
      "domain_accuracy": groups.group_means(hits, labels, self.domains + 1).mean(),
      "grl_coeff": coeff,
    }
    return cls_loss + self.trade_off * domain_loss, metrics

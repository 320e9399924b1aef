"""Domain-adversarial training (DANN): Ganin et al., JMLR 2016, arXiv:1505.07818.

    L = L_task(source) + trade_off * L_domain(source ∪ target)

The domain discriminator d sees features through the gradient reversal layer,
so one gradient step lowers L_domain in d's parameters and raises it (scaled by
the GRL coefficient λ_p) in the feature extractor's. L_domain is the binary
cross-entropy of d's logit, with domain label 0 = source and 1 = target, the
two domains weighted equally. λ_p = grl_max (2 / (1 + exp(-grl_gamma p)) - 1)
over training progress p (the paper's schedule, γ = 10).

Recipe: the paper's (trade-off 1, γ = 10, λ up to 1); the discriminator's
width is `config.model.discriminator_hidden` (tljax's digits recipe: 500-500).
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from tljax.methods import base, schedules
from tljax.methods.grl import gradient_reversal
from tljax.models.discriminator import DomainDiscriminator

SOURCE, TARGET = 0.0, 1.0


def domain_loss(logits: jax.Array, domain_labels: jax.Array) -> jax.Array:
  """Binary cross-entropy per example: logits [B], labels in {0, 1} [B] -> [B]."""
  return optax.sigmoid_binary_cross_entropy(logits, domain_labels)


def domain_correct(logits: jax.Array, domain_labels: jax.Array) -> jax.Array:
  """1.0 where the discriminator's call (logit > 0 means target) is right: [B]."""
  return ((logits > 0).astype(jnp.float32) == domain_labels).astype(jnp.float32)


def adversarial_domain_terms(
  discriminate,
  features: jax.Array,
  num_source: int,
  coeff: jax.Array,
  weights: jax.Array | None = None,
) -> tuple[jax.Array, dict[str, jax.Array]]:
  """Domain loss on features of a [source; target] batch through the GRL.

  Args:
    discriminate: features [B, D] -> domain logits [B].
    features: [Ns + Nt, D], the first `num_source` rows from the source.
    num_source: Ns.
    coeff: the GRL coefficient λ_p (scalar array).
    weights: optional per-example weights [Ns + Nt] (CDAN+E's entropy
      conditioning), each domain's summing to its size.

  Returns:
    The mean domain loss (source and target halves weighted equally) and
    metrics `domain_loss`, `domain_acc_source`, `domain_acc_target`.
  """
  logits = discriminate(gradient_reversal(features, coeff))
  labels = jnp.concatenate(
    [
      jnp.full((num_source,), SOURCE),
      jnp.full((features.shape[0] - num_source,), TARGET),
    ]
  )
  losses = domain_loss(logits, labels)
  if weights is not None:
    losses = losses * weights
  hits = domain_correct(logits, labels)
  loss = 0.5 * (losses[:num_source].mean() + losses[num_source:].mean())
  return loss, {
    "domain_loss": loss,
    "domain_acc_source": hits[:num_source].mean(),
    "domain_acc_target": hits[num_source:].mean(),
  }


ADVERSARIAL_LABELS = {
  "domain_loss": "dom",
  "domain_acc_source": "dacc_s",
  "domain_acc_target": "dacc_t",
  "grl_coeff": "λ",
}


def discriminator(model) -> nn.Module:
  """The domain discriminator of `config.model` (width `discriminator_hidden`)."""
  return DomainDiscriminator(
    hidden=tuple(model.discriminator_hidden), dropout=model.dropout, norm=model.norm
  )


@dataclasses.dataclass(frozen=True)
class Method(base.Method):
  """DANN: source cross-entropy + adversarial domain loss behind the GRL."""

  streams = (base.SOURCE, base.TARGET)
  defaults = {"trade_off": 1.0, "grl_gamma": 10.0, "grl_max": 1.0}
  labels = ADVERSARIAL_LABELS

  trade_off: float = 1.0
  grl: schedules.GRLSchedule = schedules.GRLSchedule()
  discriminator: nn.Module = DomainDiscriminator()

  @classmethod
  def create(cls, setup: base.Setup) -> "Method":
    return cls(
      trade_off=setup.get("trade_off", base.NON_NEGATIVE),
      grl=schedules.GRLSchedule.create(setup),
      discriminator=discriminator(setup.model),
    )

  def init(self, rng, logits, features) -> base.Extras:
    params, batch_stats = base.init_network(self.discriminator, rng, features)
    return base.Extras({"discriminator": params}, {"discriminator": batch_stats})

  def loss(self, out):
    cls_loss, metrics = base.supervised(out, base.SOURCE)
    coeff = self.grl(out.step)
    features = jnp.concatenate([out.features[base.SOURCE], out.features[base.TARGET]])
    domain, domain_metrics = adversarial_domain_terms(
      lambda f: out.apply("discriminator", self.discriminator, f),
      features,
      out.features[base.SOURCE].shape[0],
      coeff,
    )
    return cls_loss + self.trade_off * domain, {**metrics, **domain_metrics, "grl_coeff": coeff}

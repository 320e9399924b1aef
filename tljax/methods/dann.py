"""Domain-adversarial training (DANN): Ganin et al., JMLR 2016, arXiv:1505.07818.

    L = L_task(source) + trade_off * L_domain(source ∪ target)

The domain discriminator d sees features through the gradient reversal layer,
so one gradient step lowers L_domain in d's parameters and raises it (scaled by
the GRL coefficient λ_p) in the feature extractor's. L_domain is the binary
cross-entropy of d's logit, with domain label 0 = source and 1 = target.
"""

import jax
import jax.numpy as jnp
import optax

from tljax.methods.grl import gradient_reversal

SOURCE, TARGET = 0.0, 1.0


def domain_loss(logits: jax.Array, domain_labels: jax.Array) -> jax.Array:
  """Binary cross-entropy per example: logits [B], labels in {0, 1} [B] -> [B]."""
  return optax.sigmoid_binary_cross_entropy(logits, domain_labels)


def domain_correct(logits: jax.Array, domain_labels: jax.Array) -> jax.Array:
  """1.0 where the discriminator's call (logit > 0 means target) is right: [B]."""
  return ((logits > 0).astype(jnp.float32) == domain_labels).astype(jnp.float32)


def adversarial_domain_terms(
  discriminate, features: jax.Array, num_source: int, coeff: jax.Array
) -> tuple[jax.Array, dict[str, jax.Array]]:
  """Domain loss on features of a [source; target] batch through the GRL.

  Args:
    discriminate: features [B, D] -> domain logits [B].
    features: [Ns + Nt, D], the first `num_source` rows from the source.
    num_source: Ns.
    coeff: the GRL coefficient λ_p (scalar array).

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
  hits = domain_correct(logits, labels)
  loss = 0.5 * (losses[:num_source].mean() + losses[num_source:].mean())
  return loss, {
    "domain_loss": loss,
    "domain_acc_source": hits[:num_source].mean(),
    "domain_acc_target": hits[num_source:].mean(),
  }

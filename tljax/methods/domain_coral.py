"""CORAL across source domains, for domain generalisation: DomainBed's CORAL
(Sun & Saenko 2016, as Gulrajani & Lopez-Paz 2021 apply it to several training domains).

    L = mean_e R_e + γ · mean_{i<j} ( mean_k (μ_i − μ_j)_k² + mean_kl (C_i − C_j)_kl² )

μ_e and C_e are source domain e's feature mean and (unbiased) covariance in
the batch, R_e its cross-entropy: every pair of training domains is pulled to
the same first and second moments; the target is never read. (`coral` is the
adaptation method: source against target, |C_S − C_T|²_F / 4d².)

Recipe: DomainBed's (γ = 1). Several sources: `--config.data.source=a,b,c`;
with one source there is no pair and it is source only.
"""

import dataclasses
import itertools

import jax
import jax.numpy as jnp

from tljax import core
from tljax.losses import groups


def domain_statistics(features, domains, count: int) -> tuple[jax.Array, jax.Array]:
  """(means [count, D], unbiased covariances [count, D, D]) of each domain's rows."""
  member = jax.nn.one_hot(domains, count)  # [B, count]
  sizes = member.sum(0)
  means = (member.T @ features) / jnp.maximum(sizes, 1.0)[:, None]
  centred = features - means[domains]
  covariances = jnp.einsum("be,bi,bj->eij", member, centred, centred)
  return means, covariances / jnp.maximum(sizes - 1.0, 1.0)[:, None, None]


def pairwise_penalty(means, covariances) -> jax.Array:
  """The mean over domain pairs of mean squared mean and covariance differences (0: one)."""
  pairs = list(itertools.combinations(range(means.shape[0]), 2))
  if not pairs:
    return jnp.zeros(())
  terms = [
    ((means[i] - means[j]) ** 2).mean() + ((covariances[i] - covariances[j]) ** 2).mean()
    for i, j in pairs
  ]
  return sum(terms) / len(pairs)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """The sources' mean risk + γ × their pairwise CORAL distance."""

  streams = (core.SOURCE,)
  labels = {"coral_penalty": "coral"}
  searched = {"trade_off": (-1, 1, False)}  # DomainBed's search (tljax/run/trials.py).

  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)

  def loss(self, out):
    def penalty(features, domains):
      return pairwise_penalty(*domain_statistics(features, domains, self.domains))

    return groups.feature_penalised(out, self.domains, penalty, "coral_penalty", self.trade_off)

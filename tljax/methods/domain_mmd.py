"""MMD across source domains, for domain generalisation: DomainBed's MMD (Li et al. 2018's
alignment of MMD-AAE, as Gulrajani & Lopez-Paz 2021 apply it to several training domains).

    L = mean_e R_e + γ · mean_{i<j} MMD²(Z_i, Z_j)
    MMD²(X, Y) = mean k(X, X) + mean k(Y, Y) − 2 mean k(X, Y),   k(x, y) = Σ_g exp(−g |x − y|²)

Z_e are source domain e's features in the batch and R_e its cross-entropy;
the sum runs over DomainBed's fixed bandwidths g ∈ {10⁻³, 10⁻², ..., 10³}
(not scaled to the features, unlike `dan`'s), and the means include each
domain's own diagonal (the biased estimate, as DomainBed computes it): every
pair of training domains is pulled to the same feature distribution; the
target is never read. (`dan` is the adaptation method: source against target.)

Recipe: DomainBed's (γ = 1, searched as 10^U(-1, 1)). Several sources:
`--config.data.source=a,b,c`; with one source there is no pair and it is source only.
"""

import dataclasses
import itertools

import jax
import jax.numpy as jnp

from tljax import core
from tljax.losses import groups, kernels

GAMMAS = (1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3)  # DomainBed's kernel bandwidths.


def domain_mmds(features, domains, count: int) -> jax.Array:
  """[count, count]: the biased MMD² between every two domains' rows of `features` [B, D]."""
  distances = kernels.squared_distances(features)
  kernel = sum(jnp.exp(-g * distances) for g in GAMMAS)
  member = jax.nn.one_hot(domains, count)  # [B, count]
  sizes = jnp.maximum(member.sum(0), 1.0)
  means = (member.T @ kernel @ member) / (sizes[:, None] * sizes[None, :])  # mean k(Z_i, Z_j).
  within = jnp.diag(means)
  return within[:, None] + within[None, :] - 2.0 * means


def pairwise_penalty(mmds: jax.Array) -> jax.Array:
  """The mean of `mmds` [count, count] over domain pairs i < j (0 with one domain)."""
  pairs = list(itertools.combinations(range(mmds.shape[0]), 2))
  if not pairs:
    return jnp.zeros(())
  return sum(mmds[i, j] for i, j in pairs) / len(pairs)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """The sources' mean risk + γ × their mean pairwise MMD²."""

  streams = (core.SOURCE,)
  labels = {"mmd_penalty": "mmd"}
  searched = {"trade_off": (-1, 1, False)}  # DomainBed's search (tljax/run/trials.py).

  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)

  def loss(self, out):
    def penalty(features, domains):
      return pairwise_penalty(domain_mmds(features, domains, self.domains))

    return groups.feature_penalised(out, self.domains, penalty, "mmd_penalty", self.trade_off)

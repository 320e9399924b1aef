"""Risk extrapolation (V-REx): Krueger et al., ICML 2021, arXiv:2003.00688.

    L = mean_e R_e + λ Var_e(R_e) ,   divided by λ when λ > 1

R_e is source domain e's mean cross-entropy in the batch and Var_e the
(population) variance of those risks across the domains: equal risks on
every training domain are asked for, not only a low mean.

Recipe: DomainBed's defaults (λ = 10, λ = 1 for the first 500 steps, the loss
divided by λ after). A domain-generalisation method over several sources
(`--config.data.source=a,b,c`); with one source the variance is 0 and it is
source only.
"""

import dataclasses

from tljax import core
from tljax.losses import groups


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """V-REx: the sources' mean risk + λ × the variance of their risks."""

  streams = (core.SOURCE,)
  labels = {"risk_variance": "var", "penalty_weight": "λ"}
  # DomainBed's search (tljax/run/trials.py).
  searched = {"penalty_weight": (-1, 5, False), "anneal_steps": (0, 4, True)}

  penalty_weight: float = core.setting(10.0, core.NON_NEGATIVE)
  anneal_steps: int = core.setting(500, core.NON_NEGATIVE_INT)

  def loss(self, out):
    def variance(logits, labels, domains, risks):
      del logits, labels, domains
      return ((risks - risks.mean()) ** 2).mean()

    return groups.penalised(
      out, self.domains, variance, "risk_variance", self.penalty_weight, self.anneal_steps
    )

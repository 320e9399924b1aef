"""Group distributionally robust optimisation (GroupDRO): Sagawa et al., ICLR 2020,
arXiv:1911.08731.

    q_e ← q_e exp(η R_e) / Σ_e' q_e' exp(η R_e'),    L = Σ_e q_e R_e

The worst source domains get the most weight: q (one weight per domain, in
`state.method_state`, checkpointed with the run) follows exponentiated
gradient ascent on the domains' batch risks R_e, and the network descends
the q-weighted risk (q held fixed in the gradient).

Recipe: DomainBed's (η = 0.01, q starting uniform, updated before the loss
each step). A domain-generalisation method over several sources
(`--config.data.source=a,b,c`); with one source it is source only.
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.core import classification
from tljax.losses import groups


def updated_weights(q: jax.Array, risks: jax.Array, eta: float) -> jax.Array:
  """One exponentiated-gradient step of the domain weights, renormalised."""
  q = q * jnp.exp(eta * jax.lax.stop_gradient(risks))
  return q / q.sum()


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """GroupDRO: the risk of the source domains weighted toward the worst."""

  streams = (core.SOURCE,)
  labels = {"worst_risk": "worst", "max_weight": "q_max"}
  searched = {"eta": (-3, -1, False)}  # DomainBed's search (tljax/run/trials.py).

  eta: float = core.setting(0.01, core.NON_NEGATIVE)

  def init(self, rng, logits, features) -> core.Extras:
    del rng, logits, features
    return core.Extras(state={"q": jnp.full((self.domains,), 1.0 / self.domains, jnp.float32)})

  def loss(self, out):
    logits, labels, _, risks = groups.source_risks(out, self.domains)
    q = updated_weights(out.method_state["q"], risks, self.eta)
    out.method_state = {**out.method_state, "q": q}
    metrics = {
      "cls_loss": risks.mean(),
      "accuracy": classification.correct(logits, labels).mean(),
      "worst_risk": risks.max(),
      "max_weight": q.max(),
    }
    return (q * risks).sum(), metrics

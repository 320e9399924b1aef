"""Invariant risk minimisation (IRMv1): Arjovsky et al. 2019, arXiv:1907.02893.

    L = Σ_e R_e(w·f) / E + λ Σ_e ‖∇_{w|w=1} R_e(w·f)‖² ,   divided by λ when λ > 1

R_e is domain e's cross-entropy and w a fixed scalar "dummy classifier" on
the logits: the penalty is small when one classifier is optimal for every
domain at once. As in DomainBed (Gulrajani & Lopez-Paz 2021), the squared
gradient is estimated without bias from two halves of each domain's batch
(the product of their gradients), λ is 1 for the first `anneal_steps` steps,
and the loss is divided by λ once it is larger. Each example's gradient is
closed-form: d/dw CE(w z, y) at w = 1 is Σ_k p_k z_k − z_y.

Recipe: DomainBed's defaults (λ = 100, 500 annealing steps). DomainBed also
resets its Adam optimiser when λ switches; tljax keeps its optimiser. A
domain-generalisation method: it reads the labelled sources only, several
of them (`--config.data.source=a,b,c`); with one it is source only plus the
penalty of that domain.
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.losses import groups


def scale_gradients(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """[B]: d CE(w · logits, label) / dw at w = 1, per example: E_softmax[z] − z_label."""
  probs = jax.nn.softmax(logits)
  picked = jnp.take_along_axis(logits, labels[:, None], axis=-1)[:, 0]
  return (probs * logits).sum(-1) - picked


def irm_penalty(logits, labels, domains, count: int) -> jax.Array:
  """Σ_e (mean gradient over e's even rows) × (mean gradient over e's odd rows)."""
  grads = scale_gradients(logits, labels)
  halves = domains * 2 + jnp.arange(labels.shape[0]) % 2  # (domain, row parity) -> one group.
  means = groups.group_means(grads, halves, 2 * count).reshape(count, 2)
  return (means[:, 0] * means[:, 1]).sum()


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """IRMv1: the sources' mean risk + λ × the invariance penalty."""

  streams = (core.SOURCE,)
  labels = {"irm_penalty": "irm", "penalty_weight": "λ"}
  # DomainBed's search (tljax/run/trials.py).
  searched = {"penalty_weight": (-1, 5, False), "anneal_steps": (0, 4, True)}

  penalty_weight: float = core.setting(100.0, core.NON_NEGATIVE)
  anneal_steps: int = core.setting(500, core.NON_NEGATIVE_INT)

  def loss(self, out):
    def penalty(logits, labels, domains, risks):
      del risks
      return irm_penalty(logits, labels, domains, self.domains)

    return groups.penalised(
      out, self.domains, penalty, "irm_penalty", self.penalty_weight, self.anneal_steps
    )

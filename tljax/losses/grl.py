"""Gradient reversal layer (Ganin & Lempitsky, ICML 2015; arXiv:1409.7495) and its schedule.

Forward: identity. Backward: the upstream gradient times `-coeff`. `coeff` is
an ordinary (traced) array, so a schedule that changes it every step never
recompiles; it receives a zero gradient. The coefficient follows the DANN
paper (Ganin et al. 2016, Sec. 5.2.2) over training progress p = step / num_steps:

    λ_p = λ_max (2 / (1 + exp(-γ p)) - 1)   (γ = 10, λ_max = 1)
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax.core.schedules import progress


@jax.custom_vjp
def gradient_reversal(x: jax.Array, coeff: jax.Array) -> jax.Array:
  """Returns `x`; its gradient is `-coeff * g` for an upstream gradient `g`."""
  del coeff
  return x


def _forward(x, coeff):
  return x, coeff


def _backward(coeff, g):
  return -coeff * g, jnp.zeros_like(coeff)


gradient_reversal.defvjp(_forward, _backward)


@dataclasses.dataclass(frozen=True)
class GRLSchedule:
  """λ_p = max_coeff (2 / (1 + exp(-gamma p)) - 1): 0 at p = 0, -> max_coeff."""

  num_steps: int = 1
  gamma: float = 10.0
  max_coeff: float = 1.0

  def __call__(self, step):
    p = progress(step, self.num_steps)
    return self.max_coeff * (2.0 / (1.0 + jnp.exp(-self.gamma * p)) - 1.0)

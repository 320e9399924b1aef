"""Gradient reversal layer (Ganin & Lempitsky, ICML 2015; arXiv:1409.7495).

Forward: identity. Backward: the upstream gradient times `-coeff`. `coeff` is
an ordinary (traced) array, so a schedule that changes it every step never
recompiles; it receives a zero gradient.
"""

import jax
import jax.numpy as jnp


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

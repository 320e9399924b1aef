"""Learning-rate and GRL-coefficient schedules: fn(step) -> value.

Both follow the DANN paper (Ganin et al. 2016, Sec. 5.2.2) with training
progress p = step / num_steps in [0, 1]:

    μ_p = μ0 / (1 + α p)^β           (μ0 = 0.01, α = 10, β = 0.75)
    λ_p = λ_max (2 / (1 + exp(-γ p)) - 1)  (γ = 10, λ_max = 1)
"""

from typing import Callable

import jax.numpy as jnp

Schedule = Callable[[jnp.ndarray], jnp.ndarray]


def _progress(step, num_steps: int):
  return jnp.clip(jnp.asarray(step, jnp.float32) / num_steps, 0.0, 1.0)


def annealed_lr(lr: float, num_steps: int, alpha: float, beta: float) -> Schedule:
  """μ_p = lr / (1 + alpha p)^beta."""
  return lambda step: lr / (1.0 + alpha * _progress(step, num_steps)) ** beta


def constant(value: float) -> Schedule:
  return lambda step: jnp.full((), value, jnp.float32)


def grl_coefficient(num_steps: int, gamma: float, max_coeff: float) -> Schedule:
  """λ_p = max_coeff * (2 / (1 + exp(-gamma p)) - 1): 0 at p=0, ->max_coeff."""
  return lambda step: max_coeff * (2.0 / (1.0 + jnp.exp(-gamma * _progress(step, num_steps))) - 1.0)

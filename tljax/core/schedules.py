"""Learning-rate schedules: fn(step) -> value.

The DANN paper's annealing (Ganin et al. 2016, Sec. 5.2.2), with training
progress p = step / num_steps in [0, 1]:

    μ_p = μ0 / (1 + α p)^β           (μ0 = 0.01, α = 10, β = 0.75)

The GRL coefficient's schedule is a method's: `tljax.losses.grl.GRLSchedule`.
"""

from typing import Callable

import jax.numpy as jnp

Schedule = Callable[[jnp.ndarray], jnp.ndarray]


def progress(step, num_steps: int):
  """p = step / num_steps, clipped to [0, 1] (float32)."""
  return jnp.clip(jnp.asarray(step, jnp.float32) / num_steps, 0.0, 1.0)


def annealed_lr(lr: float, num_steps: int, alpha: float, beta: float) -> Schedule:
  """μ_p = lr / (1 + alpha p)^beta."""
  return lambda step: lr / (1.0 + alpha * progress(step, num_steps)) ** beta


def constant(value: float) -> Schedule:
  return lambda step: jnp.full((), value, jnp.float32)

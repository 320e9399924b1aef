"""Schedules over training progress p = step / num_steps in [0, 1] that methods use.

The GRL coefficient follows the DANN paper (Ganin et al. 2016, Sec. 5.2.2):

    λ_p = λ_max (2 / (1 + exp(-γ p)) - 1)   (γ = 10, λ_max = 1)
"""

import dataclasses

import jax.numpy as jnp


def progress(step, num_steps: int):
  """p = step / num_steps, clipped to [0, 1] (float32)."""
  return jnp.clip(jnp.asarray(step, jnp.float32) / num_steps, 0.0, 1.0)


@dataclasses.dataclass(frozen=True)
class GRLSchedule:
  """λ_p = max_coeff (2 / (1 + exp(-gamma p)) - 1): 0 at p = 0, -> max_coeff."""

  num_steps: int = 1
  gamma: float = 10.0
  max_coeff: float = 1.0

  @classmethod
  def create(cls, setup) -> "GRLSchedule":
    """From a method's `grl_gamma` and `grl_max` fields (a `base.Setup`)."""
    from tljax.methods import base  # pylint: disable=g-import-not-at-top  (base imports us)

    return cls(
      setup.num_steps,
      setup.get("grl_gamma", base.NON_NEGATIVE),
      setup.get("grl_max", base.NON_NEGATIVE),
    )

  def __call__(self, step):
    p = progress(step, self.num_steps)
    return self.max_coeff * (2.0 / (1.0 + jnp.exp(-self.gamma * p)) - 1.0)

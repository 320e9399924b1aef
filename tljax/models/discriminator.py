"""Domain discriminator: features [B, D] -> domain logit [B] (1 = target)."""

import flax.linen as nn
import jax.numpy as jnp

from tljax.models.heads import MLP


class DomainDiscriminator(nn.Module):
  """The paper's digits domain classifier: FC100 -> ReLU -> FC1."""

  hidden: tuple[int, ...] = (100,)
  dropout: float = 0.0
  norm: str = "none"

  @nn.compact
  def __call__(self, features: jnp.ndarray, train: bool) -> jnp.ndarray:
    return MLP(self.hidden, 1, self.dropout, self.norm)(features, train=train)[:, 0]

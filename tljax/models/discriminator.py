"""Domain discriminator: features [B, D] -> domain logit [B] (1 = target), or [B, outputs]
logits over several domains."""

import flax.linen as nn
import jax.numpy as jnp

from tljax.models.heads import MLP


class DomainDiscriminator(nn.Module):
  """The paper's digits domain classifier: FC100 -> ReLU -> FC1 (FC`outputs` over domains)."""

  hidden: tuple[int, ...] = (100,)
  dropout: float = 0.0
  norm: str = "none"
  outputs: int = 1  # 1: one logit (> 0 target); more: one logit per domain.

  @nn.compact
  def __call__(self, features: jnp.ndarray, train: bool) -> jnp.ndarray:
    logits = MLP(self.hidden, self.outputs, self.dropout, self.norm)(features, train=train)
    return logits[:, 0] if self.outputs == 1 else logits

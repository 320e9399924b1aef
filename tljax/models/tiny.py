"""Test-only backbone of a few hundred parameters."""

import flax.linen as nn
import jax.numpy as jnp

from tljax.models.backbones import max_pool_2x2, normalize_images


class TinyConvNet(nn.Module):
  """conv3x3-4 -> ReLU -> maxpool2 -> global mean: features [B, 4]."""

  input_norm: str = "scale"
  width: int = 4

  @nn.compact
  def __call__(self, images: jnp.ndarray, train: bool) -> jnp.ndarray:
    del train
    x = normalize_images(images, self.input_norm)
    x = max_pool_2x2(nn.relu(nn.Conv(self.width, (3, 3))(x)))
    return x.mean(axis=(1, 2))

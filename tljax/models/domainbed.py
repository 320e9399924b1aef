"""DomainBed's MNIST network (Gulrajani & Lopez-Paz 2021, `MNIST_CNN` in domainbed/networks.py).

conv3x3-64 -> ReLU -> GroupNorm(8) -> conv3x3/2-128 -> ReLU -> GroupNorm(8)
-> [conv3x3-128 -> ReLU -> GroupNorm(8)] x 2 -> global average: features [B, 128].
Padding 1 everywhere (28x28 -> 28 -> 14 -> 14 -> 14), PyTorch's GroupNorm
epsilon; the classifier on top is one linear layer (`model.head_hidden=()`).
The backbone for a GPU run of DomainBed's own protocol (`configs/domainbed_mnist.py:domainbed`).
"""

import flax.linen as nn
import jax.numpy as jnp

from tljax.models.backbones import normalize_images


class DomainBedMnistNet(nn.Module):
  input_norm: str = "scale"

  @nn.compact
  def __call__(self, images: jnp.ndarray, train: bool) -> jnp.ndarray:
    del train  # GroupNorm: the same in training and evaluation.
    x = normalize_images(images, self.input_norm)
    for width, stride in ((64, 1), (128, 2), (128, 1), (128, 1)):
      x = nn.Conv(width, (3, 3), strides=stride, padding=((1, 1), (1, 1)))(x)
      x = nn.GroupNorm(num_groups=8, epsilon=1e-5)(nn.relu(x))
    return x.mean(axis=(1, 2))

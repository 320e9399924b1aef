"""Feature extractors: images [B, H, W, C] -> pooled features [B, D]."""

import flax.linen as nn
import jax.numpy as jnp

from tljax.models.conv import max_pool_2x2, pooled_valid_conv, valid_conv


def normalize_images(images: jnp.ndarray, mode: str) -> jnp.ndarray:
  """uint8 (or float in [0, 255]) images -> float32 network input.

  Args:
    images: [B, H, W, C] pixel values in [0, 255].
    mode: "scale" maps to [0, 1] (the paper's plain input); "per_image"
      standardises each image to zero mean and unit variance over all its
      pixels and channels, which removes much of a colour/brightness shift.
  """
  x = images.astype(jnp.float32) / 255.0
  if mode == "scale":
    return x
  if mode == "per_image":
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    std = x.std(axis=(1, 2, 3), keepdims=True)
    return (x - mean) / jnp.maximum(std, 1.0 / 255.0)
  raise ValueError(f"unknown input normalisation {mode!r}")


class PooledConv(nn.Module):
  """max_pool_2x2(relu(conv(x) + bias)) with nn.Conv's parameters ("kernel", "bias").

  `impl="xla"` computes it in that order with plain convolutions, exactly as
  nn.Conv -> ReLU -> pool. `impl="fast"` pools first, relu(pool(conv(x)) +
  bias), and uses `tljax.models.conv`'s CPU-friendly convolutions. A 2x2 max
  commutes with adding a per-channel constant and with ReLU (both monotone,
  in floats too), so pooling first only moves the bias, the ReLU and their
  gradients onto a quarter of the activations; the two agree to float
  rounding.
  """

  features: int
  kernel_size: tuple[int, int] = (5, 5)
  impl: str = "fast"  # "fast" or "xla".

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    kernel = self.param(
      "kernel", nn.initializers.lecun_normal(), (*self.kernel_size, x.shape[-1], self.features)
    )
    bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
    if self.impl == "fast":
      return nn.relu(pooled_valid_conv(x, kernel) + bias)
    return max_pool_2x2(nn.relu(valid_conv(x, kernel, self.impl) + bias))


class DigitsConvNet(nn.Module):
  """The DANN paper's digits feature extractor (Ganin et al. 2016, Fig. 4).

  conv5x5-32 -> ReLU -> maxpool2 -> conv5x5-48 -> ReLU -> maxpool2 -> flatten.
  On 28x28 inputs the features are 4*4*48 = 768-dimensional ("VALID" convs as
  in the paper). `norm="batch"` inserts BatchNorm after each conv; the plain
  paper network is `norm="none"`, built from `PooledConv`s.
  """

  input_norm: str = "scale"
  norm: str = "none"
  features: tuple[int, int] = (32, 48)
  conv_impl: str = "fast"  # Plain network only; see tljax.models.conv.

  @nn.compact
  def __call__(self, images: jnp.ndarray, train: bool) -> jnp.ndarray:
    x = normalize_images(images, self.input_norm)
    for i, width in enumerate(self.features):
      if self.norm == "none":  # Same maths as the BatchNorm branch without it.
        x = PooledConv(width, impl=self.conv_impl, name=f"Conv_{i}")(x)
        continue
      x = nn.Conv(width, (5, 5), padding="VALID", use_bias=False)(x)
      x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
      x = max_pool_2x2(nn.relu(x))
    return x.reshape(x.shape[0], -1)

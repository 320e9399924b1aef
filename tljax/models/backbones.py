"""Feature extractors: images [B, H, W, C] -> pooled features [B, D]."""

import flax.linen as nn
import jax.numpy as jnp


def max_pool_2x2(x: jnp.ndarray) -> jnp.ndarray:
  """2x2/stride-2 max pooling as reshape + max (faster backward on XLA:CPU).

  Odd trailing rows/columns are dropped, as `nn.max_pool(..., padding="VALID")`
  does.
  """
  b, h, w, c = x.shape
  x = x[:, : h - h % 2, : w - w % 2, :]
  return x.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


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


class DigitsConvNet(nn.Module):
  """The DANN paper's digits feature extractor (Ganin et al. 2016, Fig. 4).

  conv5x5-32 -> ReLU -> maxpool2 -> conv5x5-48 -> ReLU -> maxpool2 -> flatten.
  On 28x28 inputs the features are 4*4*48 = 768-dimensional ("VALID" convs as
  in the paper). `norm="batch"` inserts BatchNorm after each conv; the plain
  paper network is `norm="none"`.
  """

  input_norm: str = "scale"
  norm: str = "none"
  features: tuple[int, int] = (32, 48)

  @nn.compact
  def __call__(self, images: jnp.ndarray, train: bool) -> jnp.ndarray:
    x = normalize_images(images, self.input_norm)
    for width in self.features:
      x = nn.Conv(width, (5, 5), padding="VALID", use_bias=self.norm == "none")(x)
      if self.norm == "batch":
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
      x = max_pool_2x2(nn.relu(x))
    return x.reshape(x.shape[0], -1)

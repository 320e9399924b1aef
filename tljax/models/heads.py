"""Classifier = backbone + MLP head -> (logits [B, K], features [B, D])."""

import flax.linen as nn
import jax
import jax.numpy as jnp

STYLES = ("mlp", "bottleneck")


class WeightNormDense(nn.Module):
  """y = x (g * v / ||v||) + b, the norm per output unit (PyTorch's `weight_norm(Linear)`).

  `scale` g starts at ||v|| of the initial kernel, so the layer starts as the
  plain Dense layer it reparametrises.
  """

  features: int

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    kernel = self.param(
      "kernel", nn.initializers.lecun_normal(), (x.shape[-1], self.features), jnp.float32
    )
    norm = jnp.sqrt(jnp.sum(kernel**2, axis=0))
    scale = self.param("scale", lambda _: norm)
    bias = self.param("bias", nn.initializers.zeros, (self.features,), jnp.float32)
    weight = kernel * (scale / jnp.maximum(norm, 1e-12))
    return x @ weight + bias


class MLP(nn.Module):
  """Dense(-BatchNorm)-ReLU(-Dropout) stack, then an optional linear output.

  `style="bottleneck"` is SHOT's head (Liang et al. 2020): the last hidden layer is
  a bottleneck, Dense-BatchNorm(-Dropout) without ReLU, and the output layer is
  weight-normalised (`WeightNormDense`).
  """

  hidden: tuple[int, ...]
  out: int | None = None
  dropout: float = 0.0
  norm: str = "none"
  style: str = "mlp"

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool, hidden_only: bool = False) -> jnp.ndarray:
    """The output; with `hidden_only`, the last hidden layer's activations instead."""
    shot_head = self.style == "bottleneck"
    for i, width in enumerate(self.hidden):
      bottleneck = shot_head and i == len(self.hidden) - 1
      batch_norm = self.norm == "batch" or bottleneck
      x = nn.Dense(width, use_bias=not batch_norm)(x)
      if batch_norm:
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
      if not bottleneck:
        x = nn.relu(x)
      if self.dropout > 0:
        x = nn.Dropout(self.dropout, deterministic=not train)(x)
    if self.out is not None and not hidden_only:
      x = WeightNormDense(self.out)(x) if shot_head else nn.Dense(self.out)(x)
    return x


def output_layer(hidden: tuple[int, ...], style: str) -> str:
  """The output layer's module name inside the head (what SHOT keeps fixed, a probe trains)."""
  return "WeightNormDense_0" if style == "bottleneck" else f"Dense_{len(hidden)}"


class Classifier(nn.Module):
  """Feature extractor followed by the label predictor.

  Returns logits [B, num_classes] and the backbone features [B, D] that the
  domain discriminator reads. `freeze_backbone` (linear probe / feature
  extraction) runs the backbone in inference mode (BatchNorm uses and keeps its
  running statistics) and applies `stop_gradient` to the features.
  """

  backbone: nn.Module
  num_classes: int
  hidden: tuple[int, ...] = (100, 100)
  dropout: float = 0.0
  norm: str = "none"
  freeze_backbone: bool = False
  head_style: str = "mlp"

  def setup(self):
    self.head = MLP(self.hidden, self.num_classes, self.dropout, self.norm, self.head_style)

  def __call__(self, images: jnp.ndarray, train: bool):
    features = self.backbone(images, train=train and not self.freeze_backbone)
    if self.freeze_backbone:
      features = jax.lax.stop_gradient(features)
    return self.head(features, train=train), features

  def classify(self, features: jnp.ndarray, train: bool) -> jnp.ndarray:
    """The label head alone on features [B, D] (`Classifier.apply(..., method="classify")`)."""
    return self.head(features, train=train)

  def embed(self, features: jnp.ndarray, train: bool) -> jnp.ndarray:
    """The head's last hidden activations [B, H] on backbone features [B, D]: what its output
    layer (the hypothesis) reads, SHOT's bottleneck (the features themselves without hidden layers).
    """
    return self.head(features, train=train, hidden_only=True)

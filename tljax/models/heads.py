"""Classifier = backbone + MLP head -> (logits [B, K], features [B, D])."""

import flax.linen as nn
import jax
import jax.numpy as jnp


class MLP(nn.Module):
  """Dense(-BatchNorm)-ReLU(-Dropout) stack, then an optional linear output."""

  hidden: tuple[int, ...]
  out: int | None = None
  dropout: float = 0.0
  norm: str = "none"

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool, hidden_only: bool = False) -> jnp.ndarray:
    """The output; with `hidden_only`, the last hidden layer's activations instead."""
    for width in self.hidden:
      x = nn.Dense(width, use_bias=self.norm == "none")(x)
      if self.norm == "batch":
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
      x = nn.relu(x)
      if self.dropout > 0:
        x = nn.Dropout(self.dropout, deterministic=not train)(x)
    if self.out is not None and not hidden_only:
      x = nn.Dense(self.out)(x)
    return x


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

  def setup(self):
    self.head = MLP(self.hidden, self.num_classes, self.dropout, self.norm)

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

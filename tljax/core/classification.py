"""Per-example classification losses and metrics."""

import jax
import jax.numpy as jnp
import optax


def cross_entropy(logits: jax.Array, labels: jax.Array, smoothing: float = 0.0) -> jax.Array:
  """Softmax cross-entropy per example: logits [B, K], int labels [B] -> [B].

  `smoothing` e: the target is (1 - e) on the label plus e / K on every class
  (Szegedy et al. 2016; SHOT's source training uses e = 0.1).
  """
  if smoothing == 0.0:
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels)
  k = logits.shape[-1]
  targets = optax.smooth_labels(jax.nn.one_hot(labels, k), smoothing)
  return optax.softmax_cross_entropy(logits, targets)


def correct(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """1.0 where the arg-max class equals the label, else 0.0: [B]."""
  return (jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32)

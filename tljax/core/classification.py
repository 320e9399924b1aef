"""Per-example classification losses and metrics."""

import jax
import jax.numpy as jnp
import optax


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Softmax cross-entropy per example: logits [B, K], int labels [B] -> [B]."""
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def correct(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """1.0 where the arg-max class equals the label, else 0.0: [B]."""
  return (jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32)

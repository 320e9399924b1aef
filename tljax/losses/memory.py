"""A memory of every target example's features and predictions, rewritten batch by batch.

Source-free methods that read the whole target set at every step (SHOT's
clustering, NRC's and AaD's neighbours) keep it in `state.method_state`: rows are
the target training examples (the TARGET batch's "index"), filled once
before training by an evaluation-mode pass (`Method.prepare`) and then, at
each step, the batch's rows take the batch's own features and predictions.
Rows are at most one epoch old. Features are stored L2-normalised.
"""

import jax
import jax.numpy as jnp

from tljax import core

FEATURES, SCORES = "memory_features", "memory_scores"


def of_target(start) -> dict:
  """The memory of every target training example from the starting network (`prepare`)."""
  return initial(*start.outputs(start.sets[core.TARGET]["input"], embed=True))


def refresh(out) -> dict:
  """Writes the TARGET batch's rows into `out.method_state` (in a method's `loss`); returns the
  memory as it stands after the write."""
  rows, embedded = out.batch[core.TARGET]["index"], out.embed(out.features[core.TARGET])
  state = write(out.method_state, rows, out.logits[core.TARGET], embedded, out.axis_name)
  out.method_state = {**out.method_state, **state}
  return state


def normalize(x: jax.Array) -> jax.Array:
  """Rows of `x` scaled to unit L2 norm."""
  return x / (jnp.linalg.norm(x, axis=-1, keepdims=True) + 1e-8)


def initial(logits: jax.Array, features: jax.Array) -> dict:
  """The memory of N examples from their logits [N, K] and features [N, D]."""
  return {FEATURES: normalize(features), SCORES: jax.nn.softmax(logits, axis=-1)}


def write(
  memory: dict, index: jax.Array, logits: jax.Array, features: jax.Array, axis_name=None
) -> dict:
  """`memory` with rows `index` [B] replaced by the batch's (no gradient flows back).

  Under pmap (`axis_name`) every device writes every device's rows, so the
  memories stay equal.
  """
  new = jax.lax.stop_gradient(initial(logits, features))
  if axis_name is not None:
    gather = lambda x: jax.lax.all_gather(x, axis_name, tiled=True)  # noqa: E731
    index, new = gather(index), jax.tree.map(gather, new)
  return {k: memory[k].at[index].set(new[k]) for k in (FEATURES, SCORES)}

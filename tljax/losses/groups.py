"""Per-domain statistics of the source batch: what the domain-generalisation methods compare.

With several source domains (`tljax.data.domains`) each source example has
its domain's number, "domain"; a single-source batch has none and is one
domain. Under a per-device placement (`pmap`) each device groups its own
rows; under `jit`, sharded or not, the groups are the whole batch's.
"""

import jax
import jax.numpy as jnp

from tljax.core import SOURCE


def source_domains(batch: dict, count: int) -> jax.Array:
  """[B] int: each source example's domain (all 0 when the batch has no "domain")."""
  source = batch[SOURCE]
  if count == 1 or "domain" not in source:
    return jnp.zeros(source["label"].shape[0], jnp.int32)
  return source["domain"]


def group_means(values: jax.Array, groups: jax.Array, count: int) -> jax.Array:
  """[count]: the mean of `values` [B] over each group's rows (0 for a group with none)."""
  sums = jax.ops.segment_sum(values, groups, num_segments=count)
  sizes = jax.ops.segment_sum(jnp.ones_like(values), groups, num_segments=count)
  return sums / jnp.maximum(sizes, 1.0)


def annealed(weight: float, anneal_steps: int, step: jax.Array) -> jax.Array:
  """DomainBed's penalty weight: 1 for the first `anneal_steps` steps, then `weight`."""
  return jnp.where(step >= anneal_steps, weight, 1.0)

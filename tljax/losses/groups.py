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


def partners(domains: jax.Array, count: int, rng: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(partner row [B], the partner's domain cycle position [B]) for each row: the row of the
  next domain in a random cycle with the same rank within its domain."""
  rows = domains.shape[0]
  if count == 1:
    return jax.random.permutation(rng, rows), jnp.zeros(rows, jnp.int32)
  order = jax.random.permutation(rng, count)  # The cycle: order[0] -> order[1] -> ...
  position = jnp.argsort(order)  # Each domain's place in it.
  partner_domain = order[(position[domains] + 1) % count]
  one_hot = jax.nn.one_hot(domains, count, dtype=jnp.int32)
  rank = (jnp.cumsum(one_hot, axis=0) * one_hot).sum(-1) - 1  # Rank of each row in its domain.
  same = (domains[None, :] == partner_domain[:, None]) & (rank[None, :] == rank[:, None])
  return jnp.argmax(same, axis=1), position[domains]

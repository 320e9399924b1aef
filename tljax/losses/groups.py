"""Per-domain statistics of the source batch: what the domain-generalisation methods compare.

With several source domains (`tljax.data.domains`) each source example has
its domain's number, "domain"; a single-source batch has none and is one
domain. Under a per-device placement (`pmap`) each device groups its own
rows; under `jit`, sharded or not, the groups are the whole batch's.
"""

import jax
import jax.numpy as jnp

from tljax.core import SOURCE, classification


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


def source_risks(out, count: int) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
  """(logits, labels, domains, each domain's mean cross-entropy [count]) of the source batch."""
  logits, labels = out.logits[SOURCE], out.batch[SOURCE]["label"]
  domains = source_domains(out.batch, count)
  risks = group_means(classification.cross_entropy(logits, labels), domains, count)
  return logits, labels, domains, risks


def feature_penalised(out, count: int, penalty, name: str, trade_off: float):
  """(loss, metrics) of the domains' mean risk + `trade_off` × `penalty(features, domains)` over
  the source batch's features (DomainBed's CORAL and MMD), the penalty logged as `name`."""
  logits, labels, domains, risks = source_risks(out, count)
  term = penalty(out.features[SOURCE].astype(jnp.float32), domains)
  metrics = {
    "cls_loss": risks.mean(),
    "accuracy": classification.correct(logits, labels).mean(),
    name: term,
  }
  return risks.mean() + trade_off * term, metrics


def penalised(out, count: int, penalty, name: str, weight: float, anneal_steps: int):
  """(loss, metrics) of the domains' mean risk + the annealed weight × `penalty`, divided by
  the weight once it passes 1 (DomainBed's IRM and V-REx); `penalty(logits, labels, domains,
  risks)` is the method's term, logged as `name`."""
  logits, labels, domains, risks = source_risks(out, count)
  term = penalty(logits, labels, domains, risks)
  lam = annealed(weight, anneal_steps, out.step)
  metrics = {
    "cls_loss": risks.mean(),
    "accuracy": classification.correct(logits, labels).mean(),
    name: term,
    "penalty_weight": lam,
  }
  return (risks.mean() + lam * term) / jnp.maximum(lam, 1.0), metrics


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

"""Adversarial domain alignment, shared by DANN, CDAN(+E) and the domain classifiers of
instance weighting: the domain loss behind the GRL, the discriminator, and a health monitor.

Domain labels: 0 = source, 1 = target; a discriminator returns one logit per
example (> 0 means target).
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from tljax.losses.grl import gradient_reversal
from tljax.models.discriminator import DomainDiscriminator

SOURCE_DOMAIN, TARGET_DOMAIN = 0.0, 1.0
LABELS = {  # Progress-line labels of `domain_terms`' metrics and the GRL coefficient.
  "domain_loss": "dom",
  "domain_acc_source": "dacc_s",
  "domain_acc_target": "dacc_t",
  "grl_coeff": "λ",
}


def domain_loss(logits: jax.Array, domain_labels: jax.Array) -> jax.Array:
  """Binary cross-entropy per example: logits [B], labels in {0, 1} [B] -> [B]."""
  return optax.sigmoid_binary_cross_entropy(logits, domain_labels)


def domain_correct(logits: jax.Array, domain_labels: jax.Array) -> jax.Array:
  """1.0 where the discriminator's call (logit > 0 means target) is right: [B]."""
  return ((logits > 0).astype(jnp.float32) == domain_labels).astype(jnp.float32)


def domain_labels(num_source: int, num_total: int) -> jax.Array:
  """[num_total] labels of a [source; target] batch whose first `num_source` rows are source."""
  return jnp.concatenate(
    [jnp.full((num_source,), SOURCE_DOMAIN), jnp.full((num_total - num_source,), TARGET_DOMAIN)]
  )


def domain_terms(
  discriminate,
  features: jax.Array,
  num_source: int,
  coeff: jax.Array,
  weights: jax.Array | None = None,
) -> tuple[jax.Array, dict[str, jax.Array]]:
  """Domain loss on features of a [source; target] batch through the GRL.

  Args:
    discriminate: features [B, D] -> domain logits [B].
    features: [Ns + Nt, D], the first `num_source` rows from the source.
    num_source: Ns.
    coeff: the GRL coefficient λ_p (scalar array).
    weights: optional per-example weights [Ns + Nt] (CDAN+E's entropy
      conditioning), each domain's summing to its size.

  Returns:
    The mean domain loss (source and target halves weighted equally) and
    metrics `domain_loss`, `domain_acc_source`, `domain_acc_target`.
  """
  logits = discriminate(gradient_reversal(features, coeff))
  labels = domain_labels(num_source, features.shape[0])
  losses = domain_loss(logits, labels)
  if weights is not None:
    losses = losses * weights
  hits = domain_correct(logits, labels)
  loss = 0.5 * (losses[:num_source].mean() + losses[num_source:].mean())
  return loss, {
    "domain_loss": loss,
    "domain_acc_source": hits[:num_source].mean(),
    "domain_acc_target": hits[num_source:].mean(),
  }


def discriminator(hidden: tuple[int, ...], model=None, outputs: int = 1) -> nn.Module:
  """A domain discriminator of widths `hidden`, with the run's dropout and norm (`config.model`);
  `outputs` > 1: one logit per domain."""
  if model is None:
    return DomainDiscriminator(hidden=tuple(hidden), outputs=outputs)
  return DomainDiscriminator(
    hidden=tuple(hidden), dropout=model.dropout, norm=model.norm, outputs=outputs
  )


@dataclasses.dataclass
class CollapseMonitor:
  """Warns when an adversarial method's domain classifier collapses.

  A working discriminator stays between chance and perfect. Two failure modes
  show as its accuracy pinned for several log windows in a row:

    ~0.5: it learns nothing (λ or the learning rate too large for it, or the
          features already identical: adaptation has nothing to do);
    ~1.0: it separates the domains perfectly, the features stay apart and the
          reversed gradient is not aligning them (λ too small, or it is too strong).
  """

  method: str = "dann"  # Named in the advice: config.method.<method>.trade_off etc.
  windows: int = 3  # How many log windows in a row count as "pinned".
  chance_band: float = 0.03  # |acc - 0.5| below this is chance.
  perfect: float = 0.98  # acc above this is perfect separation.
  _chance_run: int = 0
  _perfect_run: int = 0

  def state(self) -> dict:
    """What a resumed run needs to continue counting pinned windows."""
    return {"_chance_run": self._chance_run, "_perfect_run": self._perfect_run}

  def restore(self, state: dict) -> None:
    self._chance_run = int(state.get("_chance_run", 0))
    self._perfect_run = int(state.get("_perfect_run", 0))

  def update(self, step: int, scalars: dict) -> str | None:
    """A warning the first time a run of `windows` pinned windows completes."""
    if "domain_acc_source" not in scalars:
      return None
    dacc_s, dacc_t = scalars["domain_acc_source"], scalars["domain_acc_target"]
    at_chance = all(abs(a - 0.5) < self.chance_band for a in (dacc_s, dacc_t))
    at_perfect = all(a > self.perfect for a in (dacc_s, dacc_t))
    self._chance_run = self._chance_run + 1 if at_chance else 0
    self._perfect_run = self._perfect_run + 1 if at_perfect else 0
    if self._chance_run == self.windows:
      return (
        f"domain classifier at chance (dacc_s {dacc_s:.3f}, dacc_t {dacc_t:.3f}) for "
        f"{self.windows} log windows up to step {step}: it has collapsed; try a smaller "
        f"config.method.{self.method}.grl_max or .trade_off, or a wider "
        f"config.method.{self.method}.discriminator_hidden"
      )
    if self._perfect_run == self.windows:
      return (
        f"domain classifier separates the domains perfectly (dacc_s {dacc_s:.3f}, dacc_t "
        f"{dacc_t:.3f}) for {self.windows} log windows up to step {step}: features are not "
        f"being aligned; check config.method.{self.method}.trade_off / .grl_max"
      )
    return None

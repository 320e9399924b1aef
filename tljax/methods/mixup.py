"""Inter-domain Mixup for domain generalisation (Yan et al. 2020, arXiv:2001.00677), in the
form DomainBed runs it (Gulrajani & Lopez-Paz 2021).

    x̃ = λ x_i + (1 − λ) x_j,   L = λ CE(f(x̃), y_i) + (1 − λ) CE(f(x̃), y_j),   λ ~ Beta(α, α)

Examples of two different source domains are blended, inputs and labels
alike. As DomainBed does it, the domains are paired in a random cycle each
step (domain π_1 with π_2, π_2 with π_3, ..., π_E with π_1), one λ per pair,
and the k-th example of a domain is blended with the k-th of its partner (the
source stream gives every domain the same share of a batch). Mixing happens
on the raw inputs before the views' augmentation. With one source, examples
are blended within it (a random permutation), which is plain Mixup.

Recipe: DomainBed's α = 0.2. Inputs must be numbers that blend (images,
audio, bags of words): token ids cannot, a one-line error.
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core, models
from tljax.core import classification
from tljax.core import step as step_lib
from tljax.errors import ConfigError
from tljax.losses import groups


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Mixup across source domains: blended inputs, the labels blended the same."""

  streams = (core.SOURCE,)
  labels = {"mix_weight": "λ"}
  searched = {"alpha": (-1, 1, False)}  # DomainBed's search (tljax/run/trials.py).

  alpha: float = core.setting(0.2, core.POSITIVE)

  def check(self, setup) -> None:
    if models.TEXT_MODELS.get(setup.model.name) == "tokens":
      raise ConfigError(
        f"mixup blends inputs, and config.model.name={setup.model.name!r} reads token ids, "
        "which cannot be blended; use text_bag (bags of words blend)"
      )

  def update(self, state, batch, rng, step):
    mix_rng, pair_rng, rng = jax.random.split(rng, 3)
    source = batch[core.SOURCE]
    domains = groups.source_domains(batch, self.domains)
    partner, pair = groups.partners(domains, self.domains, pair_rng)
    lam = jax.random.beta(mix_rng, self.alpha, self.alpha, (self.domains,))[pair]
    x = source["input"].astype(jnp.float32)
    weight = lam.reshape(-1, *([1] * (x.ndim - 1)))
    mixed = {
      **source,
      "input": weight * x + (1 - weight) * x[partner],
      "partner_label": source["label"][partner],
      "mix": lam,
    }
    return step_lib.gradient_update(self, state, {**batch, core.SOURCE: mixed}, rng, step)

  def loss(self, out):
    source = out.batch[core.SOURCE]
    logits, lam = out.logits[core.SOURCE], source["mix"]
    first = classification.cross_entropy(logits, source["label"])
    second = classification.cross_entropy(logits, source["partner_label"])
    loss = (lam * first + (1 - lam) * second).mean()
    metrics = {
      "cls_loss": loss,
      "accuracy": classification.correct(logits, source["label"]).mean(),
      "mix_weight": lam.mean(),
    }
    return loss, metrics

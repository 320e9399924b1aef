"""MixStyle for domain generalisation: Zhou et al., ICLR 2021, arXiv:2104.02008.

    μ̃ = λ μ(x) + (1 − λ) μ(x_π),   σ̃ = λ σ(x) + (1 − λ) σ(x_π),
    MixStyle(x) = σ̃ (x − μ(x)) / σ(x) + μ̃,   λ ~ Beta(α, α), applied with probability p

μ and σ are each example's per-channel mean and standard deviation over the
feature map's positions (the "style"; held fixed in the gradient, as the
paper does), and π pairs every example with another of the batch. During
training the early feature maps (`layers`, a regex over module paths; the
paper mixes after the first residual stages) get the style of their partner
while keeping their content, so the classifier meets styles between the
source domains. The loss is source only's; evaluation never mixes.

π: with several sources (`--config.data.source=a,b,c`) each example is paired
with the example of the same rank in the next domain of a random cycle (the
paper's cross-domain variant, as `mixup` pairs them); with one source, a
random permutation (its random variant). Recipe: the paper's p = 0.5,
α = 0.1, σ computed with ε = 1e-6 inside the square root.
"""

import dataclasses
import re

import flax.linen as nn
import jax
import jax.numpy as jnp

from tljax import core
from tljax.core import step as step_lib
from tljax.losses import groups


def mix_styles(x, partner, lam, apply, eps: float = 1e-6) -> jax.Array:
  """x [B, H, W, C] with each example's channel statistics mixed with its partner's, where
  `apply` [B] is True; the statistics are held fixed in the gradient."""
  mu = jax.lax.stop_gradient(x.mean(axis=(1, 2), keepdims=True))
  sigma = jax.lax.stop_gradient(jnp.sqrt(x.var(axis=(1, 2), keepdims=True) + eps))
  weight = lam[:, None, None, None]
  mu_mix = weight * mu + (1 - weight) * mu[partner]
  sigma_mix = weight * sigma + (1 - weight) * sigma[partner]
  mixed = (x - mu) / sigma * sigma_mix + mu_mix
  return jnp.where(apply[:, None, None, None], mixed, x)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Source cross-entropy with the early feature maps' styles mixed between examples."""

  streams = (core.SOURCE,)
  searched = {"alpha": (-1, 1, False)}  # DomainBed's search (tljax/run/trials.py).

  probability: float = core.setting(0.5, core.PROBABILITY)
  alpha: float = core.setting(0.1, core.POSITIVE)
  layers: str = core.setting(r"^backbone/(Conv_0|Conv_1)$")  # A regex over module paths.

  def update(self, state, batch, rng, step):
    pair_rng, lam_rng, apply_rng, rng = jax.random.split(rng, 4)
    domains = groups.source_domains(batch, self.domains)
    partner, _ = groups.partners(domains, self.domains, pair_rng)
    rows = domains.shape[0]
    lam = jax.random.beta(lam_rng, self.alpha, self.alpha, (rows,))
    apply = jax.random.bernoulli(apply_rng, self.probability, (rows,))
    pattern = re.compile(self.layers)

    def interceptor(next_fun, args, kwargs, context):
      out = next_fun(*args, **kwargs)
      path = "/".join(context.module.path)
      if context.method_name == "__call__" and pattern.search(path) and out.shape[0] == rows:
        return mix_styles(out, partner, lam, apply)
      return out

    with nn.intercept_methods(interceptor):
      return step_lib.gradient_update(self, state, batch, rng, step)

  def loss(self, out):
    return core.supervised(out, core.SOURCE)

"""CDAN, conditional adversarial domain adaptation: Long et al., NeurIPS 2018, arXiv:1705.10667.

    L = L_task(source) + trade_off * L_domain(T(f, g) over source ∪ target)

Like DANN, but the discriminator sees the multilinear map T(f, g) = f ⊗ g of
the features f [D] and the (stop-gradient) softmax predictions g [K], so it
aligns the joint distribution of features and classes. Above
`max_full_dim` = 4096 entries (D·K) T is the randomized multilinear map

    T(f, g) = (R_f f) ⊙ (R_g g) / √d,   R_f [d, D], R_g [d, K] fixed N(0, 1),

whose inner products equal those of f ⊗ g in expectation (d = `random_dim`).
The random matrices are drawn once at initialisation and kept, untrained, in
`state.method_state`. `entropy: True` is CDAN+E (`cdan_e`): each example's
domain loss is weighted by 1 + exp(-H(g)), normalised to mean 1 per domain,
so confident predictions count more.

Recipe: the paper's (trade-off 1, DANN's λ schedule, randomized above 4096
dimensions with d = 1024, a 100-unit discriminator; tljax's digits recipe
widens it to 500-500). On the digits network D·K = 768 · 10, so the map is
randomized.
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.losses import adversarial
from tljax.losses import entropy as entropy_lib
from tljax.losses.grl import GRLSchedule

MAPS = ("auto", "full", "random")


def multilinear_map(features: jax.Array, probs: jax.Array) -> jax.Array:
  """f ⊗ g per row, flattened: [N, D], [N, K] -> [N, D·K]."""
  return (features[:, :, None] * probs[:, None, :]).reshape(features.shape[0], -1)


def randomized_map(features, probs, r_f: jax.Array, r_g: jax.Array) -> jax.Array:
  """(f R_f) ⊙ (g R_g) / √d: [N, D], [N, K], R_f [D, d], R_g [K, d] -> [N, d]."""
  return (features @ r_f) * (probs @ r_g) / jnp.sqrt(jnp.float32(r_f.shape[1]))


def entropy_weights(probs: jax.Array, num_source: int) -> jax.Array:
  """1 + exp(-H(g)), rescaled to mean 1 within the source rows and within the target rows."""
  w = entropy_lib.certainty(probs)
  w_s, w_t = w[:num_source], w[num_source:]
  return jnp.concatenate([w_s / w_s.mean(), w_t / w_t.mean()])


def conditioned(features: jax.Array, probs: jax.Array, state: dict) -> jax.Array:
  """The discriminator's input: the randomized map if `state` holds R_f and R_g, else f ⊗ g."""
  if "r_f" in state:
    return randomized_map(features, probs, state["r_f"], state["r_g"])
  return multilinear_map(features, probs)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """CDAN: adversarial alignment of the multilinear map of features and predictions."""

  streams = (core.SOURCE, core.TARGET)
  labels = adversarial.LABELS

  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)
  grl_gamma: float = core.setting(10.0, core.NON_NEGATIVE)
  grl_max: float = core.setting(1.0, core.NON_NEGATIVE)
  discriminator_hidden: tuple[int, ...] = core.setting((100,), core.WIDTHS)
  entropy: bool = core.setting(False, core.BOOL)
  map: str = core.setting("auto", core.one_of(MAPS))  # "auto": "random" above max_full_dim.
  max_full_dim: int = core.setting(4096, core.POSITIVE_INT)
  random_dim: int = core.setting(1024, core.POSITIVE_INT)

  @property
  def grl(self) -> GRLSchedule:
    return GRLSchedule(self.num_steps, self.grl_gamma, self.grl_max)

  @property
  def discriminator(self):
    return adversarial.discriminator(self.discriminator_hidden, self.model)

  def monitors(self) -> list:
    return [adversarial.CollapseMonitor(method=self.name)]

  def init(self, rng, logits, features) -> core.Extras:
    """The discriminator, and R_f, R_g when the map is randomized (D·K above the threshold)."""
    d, k = features.shape[-1], logits.shape[-1]
    map_rng, disc_rng = jax.random.split(rng)
    state = {}
    if self.map == "random" or (self.map == "auto" and d * k > self.max_full_dim):
      rf_rng, rg_rng = jax.random.split(map_rng)
      state = {
        "r_f": jax.random.normal(rf_rng, (d, self.random_dim)),
        "r_g": jax.random.normal(rg_rng, (k, self.random_dim)),
      }
    mapped = conditioned(features, jax.nn.softmax(logits), state)
    params, batch_stats = core.init_network(self.discriminator, disc_rng, mapped)
    return core.Extras({"discriminator": params}, {"discriminator": batch_stats}, state)

  def loss(self, out):
    cls_loss, metrics = core.supervised(out, core.SOURCE)
    coeff = self.grl(out.step)
    num_source = out.features[core.SOURCE].shape[0]
    features = jnp.concatenate([out.features[core.SOURCE], out.features[core.TARGET]])
    logits = jnp.concatenate([out.logits[core.SOURCE], out.logits[core.TARGET]])
    probs = jax.lax.stop_gradient(jax.nn.softmax(logits))
    weights = entropy_weights(probs, num_source) if self.entropy else None
    domain, domain_metrics = adversarial.domain_terms(
      lambda h: out.apply("discriminator", self.discriminator, h),
      conditioned(features, probs, out.method_state),
      num_source,
      coeff,
      weights,
    )
    return cls_loss + self.trade_off * domain, {**metrics, **domain_metrics, "grl_coeff": coeff}

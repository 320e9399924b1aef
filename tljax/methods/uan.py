"""UAN, universal adaptation network: You et al., CVPR 2019.

Universal adaptation: each domain may hold classes the other lacks, and
nothing says which. UAN scores each example's transferability from two
signals: the label predictor's normalised entropy Ĥ(x) = H(ŷ(x)) / log K
(common-class target examples are predicted more confidently) and a
non-adversarial domain discriminator's probability d'(x) that x is from the
source (trained on detached features, so it measures, not aligns):

    w_s(x) = Ĥ(x) - d'(x)        w_t(x) = d'(x) - Ĥ(x)

An adversarial domain discriminator (behind the GRL, as DANN) then aligns
the two domains with each example weighted by its w, normalised to mean 1
per domain, so private classes of either side weigh little. Prediction:
"unknown" where w_t(x) < threshold, else the label predictor's class.

    L = CE(source) + trade_off * L_domain(w-weighted) + L_domain'(no GRL, unweighted)

Recipe: the paper's (threshold w_0 = -0.5, trade-off 1, DANN's GRL
schedule); the discriminators are tljax's domain classifiers.
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.core import step as step_lib
from tljax.losses import adversarial
from tljax.losses.entropy import entropy
from tljax.losses.grl import GRLSchedule


def transferability(logits: jax.Array, similarity_logits: jax.Array) -> jax.Array:
  """d'(x) - Ĥ(x): w_t of target examples (w_s is its negative); d' = P(source)."""
  probs = jax.nn.softmax(logits)
  normalised_entropy = entropy(probs) / jnp.log(logits.shape[-1])
  return jax.nn.sigmoid(-similarity_logits) - normalised_entropy


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Transferability-weighted adversarial alignment; rejects target examples with low w_t."""

  streams = (core.SOURCE, core.TARGET)
  labels = {**adversarial.LABELS, "target_weight": "w_t"}

  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)
  threshold: float = core.setting(-0.5, (lambda v: -1 <= v <= 1, "in [-1, 1]"))
  grl_gamma: float = core.setting(10.0, core.NON_NEGATIVE)
  grl_max: float = core.setting(1.0, core.NON_NEGATIVE)
  discriminator_hidden: tuple[int, ...] = core.setting((100,), core.WIDTHS)

  @property
  def discriminator(self):
    return adversarial.discriminator(self.discriminator_hidden, self.model)

  def init(self, rng, logits, features) -> core.Extras:
    adv_rng, sim_rng = jax.random.split(rng)
    adv, adv_stats = core.init_network(self.discriminator, adv_rng, features)
    sim, sim_stats = core.init_network(self.discriminator, sim_rng, features)
    return core.Extras(
      {"discriminator": adv, "similarity": sim},
      {"discriminator": adv_stats, "similarity": sim_stats},
    )

  def monitors(self) -> list:
    return [adversarial.CollapseMonitor(method=self.name)]

  def loss(self, out):
    cls_loss, metrics = core.supervised(out, core.SOURCE)
    features = jnp.concatenate([out.features[core.SOURCE], out.features[core.TARGET]])
    n_source = out.features[core.SOURCE].shape[0]
    domains = adversarial.domain_labels(n_source, features.shape[0])
    similarity = out.apply("similarity", self.discriminator, jax.lax.stop_gradient(features))
    sim_loss = adversarial.domain_loss(similarity, domains).mean()
    logits = jax.lax.stop_gradient(jnp.concatenate([out.logits[core.SOURCE],
                                                    out.logits[core.TARGET]]))  # fmt: skip
    w = transferability(logits, jax.lax.stop_gradient(similarity))
    w = jnp.concatenate([-w[:n_source], w[n_source:]])  # w_s = -(d' - Ĥ), w_t = d' - Ĥ.
    w_source, w_target = w[:n_source] - w[:n_source].min(), w[n_source:] - w[n_source:].min()
    weights = jnp.concatenate(  # Non-negative, mean 1 per domain.
      [
        w_source / jnp.maximum(w_source.mean(), 1e-12),
        w_target / jnp.maximum(w_target.mean(), 1e-12),
      ]
    )
    coeff = GRLSchedule(self.num_steps, self.grl_gamma, self.grl_max)(out.step)
    domain, domain_metrics = adversarial.domain_terms(
      lambda f: out.apply("discriminator", self.discriminator, f),
      features,
      n_source,
      coeff,
      weights,
    )
    return cls_loss + self.trade_off * domain + sim_loss, {
      **metrics,
      **domain_metrics,
      "grl_coeff": coeff,
      "target_weight": w[n_source:].mean(),
    }

  def predict(self, logits, features, params, batch_stats):
    variables = step_lib.variables(params["similarity"], batch_stats["similarity"])
    similarity = self.discriminator.apply(variables, features, False)
    w_t = transferability(logits, similarity)
    return jnp.where(w_t < self.threshold, logits.shape[-1], jnp.argmax(logits, -1))

"""OVANet, one-vs-all network: Saito & Saenko, ICCV 2021, arXiv:2104.03344.

Beside the closed-set head (K classes), K one-vs-all binary heads on the
same features, O_k(x) = (p_k^-, p_k^+). On the labelled source each O_k
learns "is it class k", with the hardest negative:

    L_ova(x, y) = -log p_y^+(x) - min_{j != y} log p_j^-(x)

and on the unlabelled target, open-set entropy minimisation pushes every
one-vs-all head to a confident answer, known or not:

    L_ent(x) = -(1/K) Σ_k [p_k^+ log p_k^+ + p_k^- log p_k^-]
    L = CE(closed head) + L_ova  (source)  + entropy_weight * L_ent  (target)

Prediction: the closed head's class ŷ, or "unknown" when its own
one-vs-all head says p_ŷ^+ < 0.5: the rule needs no threshold to tune.

Recipe: the paper's (entropy weight 0.1); the one-vs-all heads are one
linear layer on the features, as in its code.
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp

from tljax import core
from tljax.core import step as step_lib

EPS = 1e-8


class OneVsAll(nn.Module):
  """K binary heads: features [B, D] -> logits [B, 2, K] (axis 1: negative, positive)."""

  num_classes: int

  @nn.compact
  def __call__(self, features: jax.Array, train: bool) -> jax.Array:
    del train
    # Two layers, not one Dense(2K) reshaped: the same maths, and jaxlib 0.10's XLA:CPU
    # segfaults on the reshaped form under --xla_cpu_experimental_ynn_fusion_type=dot.
    negative = nn.Dense(self.num_classes, name="negative")(features)
    positive = nn.Dense(self.num_classes, name="positive")(features)
    return jnp.stack([negative, positive], axis=1)


def ova_loss(ova_logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Mean over examples of -log p_y^+ - min_{j != y} log p_j^- (the hardest negative)."""
  probs = jax.nn.softmax(ova_logits, axis=1)
  positive = jax.nn.one_hot(labels, ova_logits.shape[-1])
  pos = -jnp.sum(jnp.log(probs[:, 1] + EPS) * positive, axis=1)
  neg = jnp.max(-jnp.log(probs[:, 0] + EPS) * (1 - positive), axis=1)
  return (pos + neg).mean()


def open_entropy(ova_logits: jax.Array) -> jax.Array:
  """Mean over examples and heads of each binary head's entropy."""
  probs = jax.nn.softmax(ova_logits, axis=1)
  return -jnp.sum(probs * jnp.log(probs + EPS), axis=1).mean()


def reject(closed_logits: jax.Array, ova_logits: jax.Array) -> jax.Array:
  """The closed head's class, or K ("unknown") where its one-vs-all head's p^+ < 0.5."""
  predicted = jnp.argmax(closed_logits, -1)
  positive = jax.nn.softmax(ova_logits, axis=1)[:, 1]
  own = jnp.take_along_axis(positive, predicted[:, None], axis=1)[:, 0]
  return jnp.where(own < 0.5, closed_logits.shape[-1], predicted)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Closed-set head + one-vs-all heads; open-set entropy on the target."""

  streams = (core.SOURCE, core.TARGET)
  labels = {"ova_loss": "ova", "open_entropy": "ent"}

  entropy_weight: float = core.setting(0.1, core.NON_NEGATIVE)

  @property
  def heads(self) -> OneVsAll:
    return OneVsAll(self.num_classes)

  def init(self, rng, logits, features) -> core.Extras:
    params, stats = core.init_network(self.heads, rng, features)
    return core.Extras({"ova": params}, {"ova": stats})

  def loss(self, out):
    cls_loss, metrics = core.supervised(out, core.SOURCE)
    source = out.apply("ova", self.heads, out.features[core.SOURCE])
    target = out.apply("ova", self.heads, out.features[core.TARGET])
    ova = ova_loss(source, out.batch[core.SOURCE]["label"])
    ent = open_entropy(target)
    return cls_loss + ova + self.entropy_weight * ent, {
      **metrics,
      "ova_loss": ova,
      "open_entropy": ent,
    }

  def predict(self, logits, features, params, batch_stats):
    ova = self.heads.apply(step_lib.variables(params["ova"], batch_stats["ova"]), features, False)
    return reject(logits, ova)

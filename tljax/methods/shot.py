"""SHOT: source hypothesis transfer (Liang et al., ICML 2020, arXiv:2002.08546, Sec. 3).

Source-free, as `shot_im.py` (the output layer of a source-trained network
frozen, target inputs only), plus self-supervised pseudo-labels from
clustering the target features:

    L = L_im + trade_off * CE(p(x), y_hat(x))

y_hat: weighted k-means in cosine distance, one round as in the paper's
code. Centroids c_k = sum_x p_k(x) f(x) / sum_x p_k(x) over every target
example; each example's nearest centroid; centroids again from those hard
labels; y_hat(x) = the nearest of those. f is the head's last hidden layer
(what the hypothesis reads: the paper's bottleneck), with a constant 1
appended and L2-normalised, as the paper's code.

Change from the paper: it clusters in a full pass over the target set at
the start of every epoch; tljax keeps every target example's features and
prediction in memory (`tljax.losses.memory`, filled by one pass before
training) and rewrites the batch's rows at each step, so the centroids are
recomputed from the memory at every step and each row is at most one epoch
old, as the paper's labels are.

Recipe: the paper's trade-off 0.3 (`shot.trade_off`) and diversity weight 1.
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.core.classification import cross_entropy
from tljax.losses import memory
from tljax.methods import shot_im


def with_bias(features: jax.Array) -> jax.Array:
  """Features [N, D] with a constant 1 appended (the paper's code clusters those)."""
  return jnp.concatenate([features, jnp.ones((features.shape[0], 1), features.dtype)], -1)


def pseudo_labels(features: jax.Array, scores: jax.Array, rows: jax.Array) -> jax.Array:
  """SHOT's cluster labels [B] of `rows` from every example's normalised features [N, D] and
  predictions [N, K]: soft centroids, nearest (cosine), hard centroids, nearest again."""

  def nearest(weights, points):
    centroids = weights.T @ features / (weights.sum(0)[:, None] + 1e-8)
    return jnp.argmax(points @ memory.normalize(centroids).T, -1)

  hard = jax.nn.one_hot(nearest(scores, features), scores.shape[1])
  return nearest(hard, features[rows])


@dataclasses.dataclass(frozen=True)
class Method(shot_im.Method):
  """SHOT-IM plus cross-entropy on clustering pseudo-labels."""

  labels = {**shot_im.Method.labels, "pseudo_loss": "pl"}

  trade_off: float = core.setting(0.3, core.NON_NEGATIVE)  # beta: the pseudo-label loss.

  def prepare(self, start):
    logits, embedded = start.outputs(start.sets[core.TARGET]["input"], embed=True)
    return core.Prepared(state=memory.initial(logits, with_bias(embedded)))

  def loss(self, out):
    im_loss, metrics = super().loss(out)
    logits, rows = out.logits[core.TARGET], out.batch[core.TARGET]["index"]
    state = out.method_state
    labels = pseudo_labels(state[memory.FEATURES], state[memory.SCORES], rows)
    pseudo_loss = cross_entropy(logits, labels).mean()
    embedded = with_bias(out.embed(out.features[core.TARGET]))
    out.method_state = {**state, **memory.write(state, rows, logits, embedded, out.axis_name)}
    return im_loss + self.trade_off * pseudo_loss, {**metrics, "pseudo_loss": pseudo_loss}

"""NRC: neighbourhood reciprocal clustering (Yang et al., NeurIPS 2021, arXiv:2110.04202).

Source-free, as `shot_im.py` (a source-trained network whose output layer
stays fixed, target inputs only): each target prediction is pulled towards
those of its neighbours in feature space, more strongly where the
neighbourhood is reciprocal, while the predictions keep using every class:

    L = - mean_x [ sum_{j in N_K(x)} w_j <p(x), s_j>
                 + sum_{j in N_K(x)} sum_{m in N_M(j)} r <p(x), s_m> ]
        - diversity * H(mean_x p(x))

s: the stored predictions of every target example, f: their stored
features (the head's last hidden layer, L2-normalised), both in memory
(`tljax.losses.memory`: one pass before training, then the batch's rows
rewritten at each step, before the neighbours are searched, as the paper's
code does). N_K(x): the K nearest stored features by cosine (x itself
left out), N_M(j): the M nearest of each of those ("extended"
neighbours); w_j = how often x is among j's M nearest (reciprocal), else
r = 0.1, the affinity of every extended neighbour.

Recipe: the paper's VisDA setting, K = M = 5, r = 0.1, diversity 1; the hypothesis
frozen, as its code (built on SHOT's) does.
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.losses import memory
from tljax.losses.entropy import entropy
from tljax.methods import shot_im


def neighbours(queries: jax.Array, features: jax.Array, k: int) -> jax.Array:
  """Indices [..., k] of each query's k nearest rows of `features` by cosine, the nearest
  (the query itself, stored in memory) left out.

  The barrier keeps XLA:CPU's fast top-k: sliced directly, it sorts whole rows (50x slower).
  """
  nearest = jax.lax.top_k(jax.lax.stop_gradient(queries @ features.T), k + 1)[1]
  return jax.lax.optimization_barrier(nearest)[..., 1:]


def nrc_loss(probs, rows, features, scores, k: int, m: int, affinity: float):
  """(neighbour term, extended-neighbour term) of a batch's probabilities [B, C] whose
  examples are rows [B] of the memory (features [N, D], scores [N, C])."""
  near = neighbours(features[rows], features, k)  # [B, K]
  near_near = neighbours(features[near], features, m)  # [B, K, M]
  reciprocal = (near_near == rows[:, None, None]).sum(-1)  # [B, K]
  weight = jnp.where(reciprocal > 0, reciprocal, affinity).astype(probs.dtype)
  agree = jnp.einsum("bc,bkc->bk", probs, scores[near])
  agree_extended = jnp.einsum("bc,bkmc->bkm", probs, scores[near_near])
  return -(weight * agree).sum(1).mean(), -(affinity * agree_extended).sum((1, 2)).mean()


@dataclasses.dataclass(frozen=True)
class Method(shot_im.Method):
  """Agreement with reciprocal neighbours' predictions; the output layer frozen."""

  labels = {"neighbours": "nn", "extended": "enn", "diversity": "div"}

  neighbours: int = core.setting(5, core.POSITIVE_INT)  # K.
  extended: int = core.setting(5, core.POSITIVE_INT)  # M, each neighbour's neighbours.
  affinity: float = core.setting(0.1, core.NON_NEGATIVE)  # r, of non-reciprocal neighbours.

  def prepare(self, start):
    return core.Prepared(state=memory.of_target(start))

  def loss(self, out):
    state, rows = memory.refresh(out), out.batch[core.TARGET]["index"]
    probs = jax.nn.softmax(out.logits[core.TARGET])
    near, extended = nrc_loss(
      probs,
      rows,
      state[memory.FEATURES],
      state[memory.SCORES],
      self.neighbours,
      self.extended,
      self.affinity,
    )
    spread = entropy(probs.mean(0))
    metrics = {"neighbours": near, "extended": extended, "diversity": spread}
    return near + extended - self.diversity * spread, metrics

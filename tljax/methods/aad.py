"""AaD: attracting and dispersing (Yang et al., NeurIPS 2022, arXiv:2205.04183).

Source-free, as `nrc.py` (a source-trained network, target inputs only, the
target's features and predictions kept in memory): each target prediction is
pulled towards the stored predictions of its nearest neighbours in feature
space and pushed away from the other predictions in its batch,

    L = - mean_x sum_{j in N_K(x)} <p(x), s_j>
        + alpha_t * mean_x sum_{m in batch, m != x} <p(x), p(m)>

an upper bound of a clustering objective in which near features share a
prediction and far ones do not. s: stored predictions, N_K(x): the K nearest
stored features by cosine (x itself left out), the batch's rows rewritten
before the search (`tljax.losses.memory`, as `nrc.py`). The dispersion
weight decays over training: alpha_t = alpha (1 + 10 p)^-beta, p = step /
num_steps.

Recipe: the paper's code for VisDA, K = 5, alpha = 1, beta = 5. Unlike SHOT
and NRC, AaD trains every layer, the output layer included (its code has a
second optimizer for the classifier); the paper's per-layer rates (the
backbone at a tenth) are left to the run's optimizer (`optim.param_groups`).
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.core.schedules import progress
from tljax.losses import memory
from tljax.methods import nrc


def aad_loss(probs, rows, features, scores, k: int):
  """(attraction, dispersion) of a batch's probabilities [B, C] whose examples are rows [B] of
  the memory (features [N, D], scores [N, C])."""
  near = nrc.neighbours(features[rows], features, k)  # [B, K]
  attract = -jnp.einsum("bc,bkc->bk", probs, scores[near]).sum(1).mean()
  gram = probs @ probs.T  # Other predictions in the batch are not held fixed (the paper's code).
  disperse = (gram.sum(1) - jnp.diagonal(gram)).mean()
  return attract, disperse


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Agreement with neighbours' stored predictions, disagreement within the batch."""

  streams = (core.TARGET,)
  pretrained = True
  labels = {"attract": "att", "disperse": "dis"}

  neighbours: int = core.setting(5, core.POSITIVE_INT)  # K.
  dispersion: float = core.setting(1.0, core.NON_NEGATIVE)  # alpha.
  decay: float = core.setting(5.0, core.NON_NEGATIVE)  # beta, of alpha over training.

  def prepare(self, start):
    return core.Prepared(state=memory.of_target(start))

  def loss(self, out):
    state, rows = memory.refresh(out), out.batch[core.TARGET]["index"]
    probs = jax.nn.softmax(out.logits[core.TARGET])
    attract, disperse = aad_loss(
      probs, rows, state[memory.FEATURES], state[memory.SCORES], self.neighbours
    )
    weight = self.dispersion * (1.0 + 10.0 * progress(out.step, self.num_steps)) ** -self.decay
    return attract + weight * disperse, {"attract": attract, "disperse": disperse}

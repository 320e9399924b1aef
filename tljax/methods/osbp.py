"""OSBP, open-set back-propagation: Saito et al., ECCV 2018, arXiv:1804.10427.

The classifier has K + 1 outputs, the last one "unknown". On the labelled
source it is trained as usual over the K + 1 outputs; on target examples the
classifier C and the feature generator G play a game over the unknown
output's probability p_{K+1}(x_t):

    L_adv(x_t) = -t log p_{K+1}(x_t) - (1 - t) log(1 - p_{K+1}(x_t)),  t = 0.5
    C: min L_s + L_adv        G: min L_s - L_adv

C keeps p_{K+1} at the boundary t, while G pushes each target example away
from it: towards a known class (aligned with the source) or towards unknown.
The game is one gradient through a gradient reversal between G and C on the
target features (as the paper's code does). Prediction: the argmax over the
K + 1 outputs, so rejecting an example is the classifier's own output.

Recipe: the paper's (t = 0.5, reversal coefficient 1, trade-off 1).
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.losses.grl import gradient_reversal


def boundary_loss(unknown_prob: jax.Array, t: float) -> jax.Array:
  """-t log p - (1 - t) log(1 - p), per example, of the unknown output's probabilities [N]."""
  eps = 1e-6
  return -t * jnp.log(unknown_prob + eps) - (1 - t) * jnp.log(1 - unknown_prob + eps)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """K + 1-way classifier; an adversarial boundary at t on the target's unknown probability."""

  streams = (core.SOURCE, core.TARGET)
  labels = {"boundary_loss": "adv", "target_unknown": "p_unk"}

  boundary: float = core.setting(0.5, (lambda v: 0 < v < 1, "in (0, 1)"))
  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)
  reversal: float = core.setting(1.0, core.NON_NEGATIVE)

  @property
  def outputs(self) -> int:
    return self.num_classes + 1

  def loss(self, out):
    cls_loss, metrics = core.supervised(out, core.SOURCE)
    reversed_features = gradient_reversal(out.features[core.TARGET], jnp.asarray(self.reversal))
    unknown = jax.nn.softmax(out.head(reversed_features))[:, -1]
    adv = boundary_loss(unknown, self.boundary).mean()
    return cls_loss + self.trade_off * adv, {
      **metrics,
      "boundary_loss": adv,
      "target_unknown": unknown.mean(),
    }

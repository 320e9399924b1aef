"""Self-training with confidence-thresholded pseudo-labels, FixMatch-style.

FixMatch: Sohn et al., NeurIPS 2020, arXiv:2001.07685; for domain adaptation
as in Transfer-Learning-Library's `fixmatch.py`.

    L = L_task(source) + trade_off * mean_i 1[max p_i >= τ] CE(logits(strong(x_i)), argmax p_i),
    p_i = softmax(logits(weak(x_i)))   (no gradient)

Each target input is seen twice in the one forward pass: a weakly augmented
view (the step's `augment.weak`: for images the run's random shift) that
proposes a pseudo-label, kept only where its confidence reaches the threshold
τ, and a strongly augmented view (`augment.strong`: for images a larger shift,
colour gains and inversion and cutout, `config.data.strong_shift` and
`.cutout`; for text n-grams or tokens dropped) trained to predict it.

Recipe: Transfer-Learning-Library's domain-adaptation FixMatch (τ = 0.9,
trade-off 1; FixMatch's semi-supervised recipe uses τ = 0.95). Changed: its
RandAugment strong view is replaced by the on-device augmentation above, and
labelled and unlabelled batches have the same size (FixMatch: 7x unlabelled).
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.core import classification

STRONG = "target_strong"


def pseudo_label_loss(weak_logits, strong_logits, threshold: float):
  """(mean masked CE of the strong view on the weak view's labels, fraction kept)."""
  probs = jax.nn.softmax(jax.lax.stop_gradient(weak_logits))
  mask = (probs.max(axis=-1) >= threshold).astype(jnp.float32)
  losses = classification.cross_entropy(strong_logits, probs.argmax(axis=-1))
  return (losses * mask).mean(), mask.mean()


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Source cross-entropy + pseudo-label consistency between weak and strong target views."""

  streams = (core.SOURCE, core.TARGET)
  labels = {"self_training_loss": "st", "pseudo_label_rate": "kept"}

  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)
  threshold: float = core.setting(0.9, core.PROBABILITY)

  def views(self, batch, rng, augment):
    weak_rng, strong_rng = jax.random.split(rng)
    views = core.augmented_streams(batch, self.streams, weak_rng, augment)
    views[STRONG] = augment.strong(batch[core.TARGET]["input"], strong_rng)
    return views

  def loss(self, out):
    cls_loss, metrics = core.supervised(out, core.SOURCE)
    unsup, rate = pseudo_label_loss(out.logits[core.TARGET], out.logits[STRONG], self.threshold)
    return cls_loss + self.trade_off * unsup, {
      **metrics,
      "self_training_loss": unsup,
      "pseudo_label_rate": rate,
    }

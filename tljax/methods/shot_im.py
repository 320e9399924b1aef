"""SHOT-IM: source hypothesis transfer by information maximisation alone (Liang et al.,
ICML 2020, arXiv:2002.08546, Sec. 3.2; SHOT without its pseudo-labels).

Source-free: starts from a source-trained network (`model.init_checkpoint`,
e.g. a finished `source_only` run), reads unlabelled target inputs only (the
run never opens the source dataset) and keeps the source classifier's
output layer, the hypothesis, fixed while the feature extractor (backbone
and the head's hidden layers) learns to fit it:

    L_im = mean_x H(p(x)) - diversity * H(mean_x p(x))   (per batch)

confident predictions that still use every class. `shot.py` adds the
clustering pseudo-labels.

Recipe: the paper's loss (diversity weight 1); the run's optimizer and step
budget. SHOT's digits code trains the target for 30 epochs of 64 images
(`max_epoch=30`): about 28,000 steps on MNIST-M's training images
(`--config.train.num_steps=28000`; docs/results.md has both budgets). The
paper's source model (label smoothing, a weight-normalised hypothesis, a
BatchNorm bottleneck) is `source_only` under a config's `shot` argument
(configs/common.shot_source); any finished source run also works.
"""

import dataclasses

import jax

from tljax import core
from tljax.losses.entropy import information_maximisation


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Information maximisation on target predictions; the output layer frozen."""

  streams = (core.TARGET,)
  pretrained = True
  trains = "features"
  labels = {"entropy": "ent", "diversity": "div"}

  diversity: float = core.setting(1.0, core.NON_NEGATIVE)  # Weight of H(mean prediction).

  def loss(self, out):
    probs = jax.nn.softmax(out.logits[core.TARGET])
    loss, confidence, spread = information_maximisation(probs, self.diversity)
    return loss, {"entropy": confidence, "diversity": spread}

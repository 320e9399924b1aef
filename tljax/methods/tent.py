"""Tent, test entropy minimisation: Wang et al., ICLR 2021, arXiv:2006.10726.

Test-time adaptation of a source-trained network on unlabelled target
batches, one gradient step per batch:

    L = mean_x H(softmax(f(x))),   only BatchNorm's scale and shift trained

with BatchNorm normalising each batch by its own statistics (training mode).
The batch is predicted by the same forward pass, before the update (as the
paper's code does). Run it with `python -m experiments.tta` (streams the
target test set once) or as a training method on the target train set
(`--config.model.init_checkpoint=SOURCE_RUN`: source-free, no source data).

Recipe: the paper's (SGD, momentum 0.9; the learning rate is the run's
`optim.lr`, experiments.tta's default 1e-3 for 64 examples a batch).
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.losses.entropy import entropy


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Entropy of the target predictions, BatchNorm affine parameters only."""

  streams = (core.TARGET,)
  pretrained = True
  needs_batch_norm = True
  trains = "batch_norm"
  labels = {"entropy": "ent"}

  def loss(self, out):
    logits = out.logits[core.TARGET]
    ent = entropy(jax.nn.softmax(logits)).mean()
    return ent, {"entropy": ent, "predictions": jnp.argmax(logits, -1)}

"""AdaBN, adaptive batch normalisation: Li et al., Pattern Recognition 2018, arXiv:1603.04779.

No gradient at all: the source-trained network normalises target examples
with target statistics instead of the source's. At test time (Schneider et
al. 2020's form) each batch is predicted with BatchNorm in training mode,
i.e. with that batch's own mean and variance, and the running statistics
move towards the target's (BatchNorm's momentum); no parameter changes.

Run it with `python -m experiments.tta`, or as a training method on the
target train set from a source run (`model.init_checkpoint`): then the
running statistics become the target's, and evaluation uses them.
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.core import step as step_lib


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """BatchNorm statistics re-estimated on the target; parameters unchanged."""

  streams = (core.TARGET,)
  pretrained = True
  needs_batch_norm = True

  def update(self, state, batch, rng, step):
    forward_rng, method_rng, aug_rng = jax.random.split(rng, 3)
    views = self.views(batch, aug_rng, step.augment)
    out = step_lib.forward(step, state, state.params, views, batch, forward_rng, method_rng)
    new_state = state.replace(batch_stats=out.batch_stats)
    metrics = {"predictions": jnp.argmax(out.logits[core.TARGET], -1)}
    return step_lib.finish(step, state, new_state, metrics)

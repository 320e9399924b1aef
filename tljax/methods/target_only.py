"""Target only: the oracle, trained on labelled target images.

    L = L_task(target)

It reads target training labels (all of them, or `data.target_labels_per_class`
per class), so it bounds what adaptation could reach on the same network and
budget; it is never an adaptation result. Fine-tuning (`experiments.finetune`)
runs it from pretrained weights.
"""

import dataclasses

from tljax.methods import base


@dataclasses.dataclass(frozen=True)
class Method(base.Method):
  """Cross-entropy on labelled target images."""

  streams = (base.TARGET_LABELLED,)

  def loss(self, out):
    return base.supervised(out, base.TARGET_LABELLED)

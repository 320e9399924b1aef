"""Target only: the oracle, trained on labelled target images.

    L = L_task(target)

It reads target training labels (all of them, or `data.target_labels_per_class`
per class), so it bounds what adaptation could reach on the same network and
budget; it is never an adaptation result. Fine-tuning (`experiments.finetune`)
runs it from pretrained weights. When the target has classes the source
lacks, it learns their "unknown" label as one more output.
"""

import dataclasses

from tljax import core


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Cross-entropy on labelled target images."""

  streams = (core.TARGET_LABELLED,)

  @property
  def outputs(self) -> int:
    return self.num_classes + int(self.unknown)

  def loss(self, out):
    return core.supervised(out, core.TARGET_LABELLED)

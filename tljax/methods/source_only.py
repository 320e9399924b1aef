"""Source only: the lower baseline, trained on labelled source alone.

    L = L_task(source)

The same network, data pipeline and step budget as the adaptation methods;
the target is not read during training. `label_smoothing` 0.1 trains the
source model as SHOT does (Liang et al. 2020), for the source-free methods
that start from it (`shot`, `shot_im`, `nrc`, `aad`).
"""

import dataclasses

from tljax import core


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Cross-entropy on labelled source images."""

  streams = (core.SOURCE,)

  label_smoothing: float = core.setting(0.0, core.PROBABILITY)

  def loss(self, out):
    return core.supervised(out, core.SOURCE, self.label_smoothing)

"""Source only: the lower baseline, trained on labelled source alone.

    L = L_task(source)

The same network, data pipeline and step budget as the adaptation methods;
the target is not read during training.
"""

import dataclasses

from tljax import core


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Cross-entropy on labelled source images."""

  streams = (core.SOURCE,)

  def loss(self, out):
    return core.supervised(out, core.SOURCE)

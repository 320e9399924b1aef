"""Source only: the lower baseline, trained on labelled source alone.

    L = L_task(source)

The same network, data pipeline and step budget as the adaptation methods;
the target is not read during training.
"""

import dataclasses

from tljax.methods import base


@dataclasses.dataclass(frozen=True)
class Method(base.Method):
  """Cross-entropy on labelled source images."""

  streams = (base.SOURCE,)

  def loss(self, out):
    return base.supervised(out, base.SOURCE)

"""CDAN+E: CDAN with entropy conditioning (Long et al., NeurIPS 2018, arXiv:1705.10667).

    L = L_task(source) + trade_off * Σ_i w_i L_domain(T(f_i, g_i)) / Σ_i w_i,
    w_i = 1 + exp(-H(g_i))

Everything else is `cdan` (see that file); its settings live under
`config.method.cdan_e`, with `entropy` on.
"""

import dataclasses

from tljax import core
from tljax.methods import cdan


@dataclasses.dataclass(frozen=True)
class Method(cdan.Method):
  """CDAN with each example's domain loss weighted by its prediction's certainty."""

  entropy: bool = core.setting(True, core.BOOL)

"""DAN, deep adaptation network: Long, Cao, Wang & Jordan, ICML 2015, arXiv:1502.02791.

    L = L_task(source) + trade_off * MK-MMD²(features_S, features_T)

The multi-kernel MMD uses a family of Gaussian kernels whose bandwidths run
from 2^-8 to 2^8 times a base bandwidth in steps of 2^(1/2) (the paper's
family, 33 kernels), estimated in linear time (`tljax.methods.kernels`).

Recipe: the paper's kernel family and linear-time estimate, trade-off 1.
Changed: the paper learns the kernel weights β by a quadratic program and
adapts fc6-fc8 of AlexNet; tljax weights the kernels equally (as
Transfer-Learning-Library does) and adapts the backbone features. The base
bandwidth is the batch's mean squared distance between features.
"""

import dataclasses

import jax.numpy as jnp

from tljax import core
from tljax.losses import kernels

PAPER_MULTIPLIERS = tuple(2.0 ** (k / 2) for k in range(-16, 17))  # 2^-8 .. 2^8, step 2^(1/2).


def mk_mmd2(source, target, estimator: str = "linear", multipliers=PAPER_MULTIPLIERS):
  """MK-MMD² between features [n, d] and [n, d] (equal kernel weights)."""
  kernel = kernels.gaussian_kernel(jnp.concatenate([source, target]), multipliers)
  return kernels.mmd2(kernel / len(multipliers), source.shape[0], estimator)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """DAN: source cross-entropy + multi-kernel MMD between the domains' features."""

  streams = (core.SOURCE, core.TARGET)
  labels = {"mmd": "mmd"}

  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)
  estimator: str = core.setting("linear", core.one_of(kernels.ESTIMATORS))

  def loss(self, out):
    cls_loss, metrics = core.supervised(out, core.SOURCE)
    mmd = mk_mmd2(out.features[core.SOURCE], out.features[core.TARGET], self.estimator)
    return cls_loss + self.trade_off * mmd, {**metrics, "mmd": mmd}

"""JAN, joint adaptation network: Long, Zhu, Wang & Jordan, ICML 2017, arXiv:1605.06636.

    L = L_task(source) + trade_off * JMMD²((f_S, g_S), (f_T, g_T))

The joint MMD compares the joint distribution of features f and softmax
predictions g = softmax(logits) across domains, with the product kernel

    k((f, g), (f', g')) = k_f(f, f') · k_g(g, g')

(`tljax.methods.kernels`).

Recipe: Transfer-Learning-Library's (the paper has no digits experiment):
k_f a sum of 5 Gaussians at 2^-3..2^1 times the batch's mean squared feature
distance, k_g one Gaussian with σ = 0.92 on the predictions, the quadratic
estimate with unbiased within-domain terms, trade-off 1. The paper's
linear-time estimate is `--config.method.jan.estimator=linear`; it can go
negative, and minimising it then rewards pulling the domains' pairs apart.
Changed: the paper adapts AlexNet's fc7 and fc8; tljax the backbone features
and the classifier's predictions. The adversarial variant (JAN-A) is not
implemented.
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core
from tljax.losses import kernels

FEATURE_MULTIPLIERS = tuple(2.0**k for k in range(-3, 2))
PREDICTION_SIGMA = 0.92


def jmmd2(source: tuple, target: tuple, estimator: str = "linear") -> jax.Array:
  """JMMD² between (features [n, d], probabilities [n, K]) of two domains."""
  (f_s, g_s), (f_t, g_t) = source, target
  k_f = kernels.gaussian_kernel(jnp.concatenate([f_s, f_t]), FEATURE_MULTIPLIERS)
  k_g = kernels.gaussian_kernel(
    jnp.concatenate([g_s, g_t]), (1.0,), sigma_squared=PREDICTION_SIGMA**2
  )
  return kernels.mmd2(k_f * k_g, f_s.shape[0], estimator)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """JAN: source cross-entropy + joint MMD of (features, predictions)."""

  streams = (core.SOURCE, core.TARGET)
  labels = {"jmmd": "jmmd"}

  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)
  estimator: str = core.setting("unbiased", core.one_of(kernels.ESTIMATORS))

  def loss(self, out):
    cls_loss, metrics = core.supervised(out, core.SOURCE)
    s, t = core.SOURCE, core.TARGET
    jmmd = jmmd2(
      (out.features[s], jax.nn.softmax(out.logits[s])),
      (out.features[t], jax.nn.softmax(out.logits[t])),
      self.estimator,
    )
    return cls_loss + self.trade_off * jmmd, {**metrics, "jmmd": jmmd}

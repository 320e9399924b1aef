"""Kernel Mean Matching (KMM): Huang, Smola, Gretton, Borgwardt, Schölkopf, NeurIPS 2006/2007.

    min_b  1/2 b^T (K + ridge I) b - kappa^T b   s.t.  0 <= b_i <= B,  |sum_i b_i - n_s| <= n_s eps
    K_ij = k(x_i, x_j) over source,  kappa_i = (n_s / n_t) sum_j k(x_i, x'_j) over target

The weights b make the source's kernel mean embedding match the target's;
then L = sum_i b_i CE(x_i) / sum_i b_i. Solved once before training in JAX by
projected gradient descent (step 1 / ||K||_2; the projection onto the box
and the slab by bisection on a shift), on 8 x 8 pooled pixels
(instance_weights.py; `space="features"`: a pretrained network's features) with
a Gaussian kernel of median width. Paper's
defaults: B = 1000, eps = (sqrt(n_s) - 1) / sqrt(n_s). K is n_s x n_s
float32: 10,000 source examples need 0.4 GB, 40,000 need 6.4 GB; past a
few tens of thousands it stops fitting in memory (KLIEP scales further).
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from tljax import core
from tljax.losses import instance_weights


def project(v: jax.Array, upper: float, low_sum: float, high_sum: float) -> jax.Array:
  """Euclidean projection of v onto {0 <= b <= upper, low_sum <= sum b <= high_sum}."""

  def shifted(tau):
    return jnp.clip(v - tau, 0.0, upper)

  def solve(target):  # sum(clip(v - tau)) is non-increasing in tau: bisect for the target sum.
    lo, hi = jnp.min(v) - upper - 1.0, jnp.max(v) + 1.0

    def body(_, bounds):
      lo, hi = bounds
      mid = (lo + hi) / 2
      too_big = shifted(mid).sum() > target
      return jnp.where(too_big, mid, lo), jnp.where(too_big, hi, mid)

    lo, hi = jax.lax.fori_loop(0, 100, body, (lo, hi))
    return shifted((lo + hi) / 2)

  total = shifted(0.0).sum()
  return jnp.where(
    total > high_sum, solve(high_sum), jnp.where(total < low_sum, solve(low_sum), shifted(0.0))
  )


@jax.jit
def _solve(k, kappa, upper, low_sum, high_sum, steps_size, iterations):
  def body(_, b):
    return project(b - steps_size * (k @ b - kappa), upper, low_sum, high_sum)

  b0 = project(jnp.ones_like(kappa), upper, low_sum, high_sum)
  return jax.lax.fori_loop(0, iterations, body, b0)


def kmm_weights(
  source, target, width, upper=1000.0, eps=None, iterations=2000, ridge=1e-3
) -> np.ndarray:
  """KMM weights [n_s] of source [n_s, D] toward target [n_t, D] (Gaussian kernel).

  `ridge` adds ridge * I to K: the Gaussian K is near-singular, and the ridge
  makes the minimiser unique (and the solver's answer reproducible).
  """
  n_s, n_t = len(source), len(target)
  eps = (np.sqrt(n_s) - 1) / np.sqrt(n_s) if eps is None else eps
  s, t = jnp.asarray(source, jnp.float32), jnp.asarray(target, jnp.float32)
  k = instance_weights.gaussian(s, s, width) + ridge * jnp.eye(n_s)
  kappa = (n_s / n_t) * instance_weights.gaussian(s, t, width).sum(1)
  step = 1.0 / float(jnp.linalg.norm(k, 2))
  b = _solve(k, kappa, upper, n_s * (1 - eps), n_s * (1 + eps), step, iterations)
  return np.asarray(b)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Source cross-entropy weighted by KMM's weights, computed before training."""

  streams = (core.SOURCE,)
  labels = {"ess": "ess"}

  upper: float = core.setting(1000.0, core.POSITIVE)
  iterations: int = core.setting(2000, core.POSITIVE_INT)
  space: str = core.setting("pixels", core.one_of(instance_weights.SPACES))

  def check(self, setup) -> None:
    instance_weights.check_space(self)

  def prepare(self, start):
    solve = lambda s, t, width: kmm_weights(s, t, width, self.upper, iterations=self.iterations)  # noqa: E731
    return instance_weights.fit("kmm", solve, start, self.space)

  def loss(self, out):
    return instance_weights.weighted_source_risk(out)

"""KLIEP: Sugiyama, Nakajima, Kashima, von Bünau, Kawanabe, NeurIPS 2007/2008.

    w(x) = sum_l alpha_l k(x, c_l),  centres c_l: target points
    max_alpha  sum_j log w(x'_j)  s.t.  1/n_s sum_i w(x_i) = 1,  alpha >= 0

The density ratio p_t / p_s as a kernel model fitted by maximising the
target's log-likelihood (minimising KL(p_t || w p_s)); then
L = sum_i w(x_i) CE(x_i) / sum_i w(x_i). Solved once before training in JAX
by the paper's projected gradient ascent (step, then projection onto the
constraint and alpha >= 0), on 8 x 8 pooled pixels or a pretrained network's
features (`space`, instance_weights.py),
Gaussian kernel of median width, `centres` target points (100 as in the
paper). Memory is (n_s + n_t) x centres: it scales to far larger sets than
KMM.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from tljax import core
from tljax.losses import instance_weights


@jax.jit
def _ascend(a_target, b, step, iterations):
  """alpha maximising sum log(A alpha) on {b^T alpha = 1, alpha >= 0}."""

  def project(alpha):
    alpha = alpha + (1 - b @ alpha) * b / (b @ b)
    alpha = jnp.maximum(alpha, 0)
    return alpha / (b @ alpha)

  def body(_, alpha):
    grad = a_target.T @ (1.0 / (a_target @ alpha)) / a_target.shape[0]
    return project(alpha + step * grad)

  return jax.lax.fori_loop(0, iterations, body, project(jnp.ones(a_target.shape[1])))


def kliep_weights(
  source, target, width, centres=100, iterations=2000, step=1.0, seed=0
) -> np.ndarray:
  """KLIEP weights [n_s] of source [n_s, D] toward target [n_t, D]; mean 1 over the source."""
  rng = np.random.default_rng(seed)
  c = jnp.asarray(target[rng.permutation(len(target))[:centres]], jnp.float32)
  a_target = instance_weights.gaussian(jnp.asarray(target, jnp.float32), c, width)
  a_source = instance_weights.gaussian(jnp.asarray(source, jnp.float32), c, width)
  b = a_source.mean(0)
  scale = 1.0 / float(b.sum())  # The size of alpha = 1 / b^T 1 where all alpha are equal.
  alpha = _ascend(a_target, b, step * scale**2, iterations)
  return np.asarray(a_source @ alpha)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Source cross-entropy weighted by KLIEP's density ratio, fitted before training."""

  streams = (core.SOURCE,)
  labels = {"ess": "ess"}

  centres: int = core.setting(100, core.POSITIVE_INT)
  iterations: int = core.setting(2000, core.POSITIVE_INT)
  space: str = core.setting("pixels", core.one_of(instance_weights.SPACES))

  def check(self, setup) -> None:
    instance_weights.check_space(self)

  def prepare(self, start):
    solve = lambda s, t, width: kliep_weights(s, t, width, self.centres, self.iterations)  # noqa: E731
    return instance_weights.fit("kliep", solve, start, self.space)

  def loss(self, out):
    return instance_weights.weighted_source_risk(out)

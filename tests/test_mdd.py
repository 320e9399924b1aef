"""MDD: the margin disparity of a hand-computed batch, and which way its gradients push."""

import jax
import jax.numpy as jnp
import numpy as np

from tljax.methods import mdd


def test_margin_disparity_by_hand():
  # Source: main head predicts class 0; the adversary is uniform: CE = log 2, times γ = 4.
  # Target: main head predicts class 1; the adversary gives it p = 3/4: -log(1 - 3/4) = log 4.
  source, target = mdd.margin_disparity(
    logits_s=jnp.array([[2.0, 0.0]]),
    adv_logits_s=jnp.array([[0.0, 0.0]]),
    logits_t=jnp.array([[0.0, 3.0]]),
    adv_logits_t=jnp.array([[0.0, np.log(3.0)]]),
    margin=4.0,
  )
  np.testing.assert_allclose(source, 4 * np.log(2.0), rtol=1e-6)
  np.testing.assert_allclose(target, np.log(4.0), rtol=1e-5)


def test_the_adversary_is_pushed_to_agree_on_source_and_disagree_on_target():
  logits_s, logits_t = jnp.array([[2.0, 0.0]]), jnp.array([[0.0, 3.0]])

  def disparity(adv_s, adv_t):
    return sum(mdd.margin_disparity(logits_s, adv_s, logits_t, adv_t, 4.0))

  g_s, g_t = jax.grad(disparity, argnums=(0, 1))(jnp.zeros((1, 2)), jnp.zeros((1, 2)))
  # Descending the loss raises the adversary's logit for the source prediction (class 0) ...
  assert g_s[0, 0] < 0 < g_s[0, 1]
  # ... and lowers it for the target prediction (class 1).
  assert g_t[0, 1] > 0 > g_t[0, 0]
  # The main head's predictions are argmaxes: no gradient reaches them.
  zeros = jnp.zeros((1, 2))
  g_main = jax.grad(lambda l: sum(mdd.margin_disparity(l, zeros, logits_t, zeros, 4.0)))(logits_s)
  np.testing.assert_array_equal(g_main, 0.0)

"""DANN maths: domain loss values and the signs of the adversarial gradients."""

import jax
import jax.numpy as jnp
import numpy as np

from tljax.methods import dann
from tljax.models.discriminator import DomainDiscriminator


def test_domain_loss_at_known_logits():
  logits = jnp.array([0.0, 2.0, 2.0])
  labels = jnp.array([1.0, 1.0, 0.0])
  # BCE(z, y) = log(1 + e^-z) for y=1 and log(1 + e^z) for y=0.
  expected = [np.log(2.0), np.log1p(np.exp(-2.0)), np.log1p(np.exp(2.0))]
  np.testing.assert_allclose(dann.domain_loss(logits, labels), expected, rtol=1e-6)
  np.testing.assert_array_equal(dann.domain_correct(logits, labels), [0.0, 1.0, 0.0])


def _setup():
  features = jax.random.normal(jax.random.key(0), (8, 5))
  weights = jax.random.normal(jax.random.key(1), (5, 5)) * 0.5
  disc = DomainDiscriminator(hidden=(7,))
  disc_params = disc.init(jax.random.key(2), features, train=False)["params"]

  def loss(params, coeff):
    # A linear "feature extractor" W, then the discriminator behind the GRL.
    feats = features @ params["w"]
    discriminate = lambda f: disc.apply({"params": params["d"]}, f, train=True)
    return dann.adversarial_domain_terms(discriminate, feats, 4, coeff)[0]

  return {"w": weights, "d": disc_params}, loss


def test_reversed_gradient_is_minus_coeff_times_plain_gradient():
  params, loss = _setup()
  coeff = jnp.float32(0.3)
  reversed_grads = jax.grad(loss)(params, coeff)
  # Without the GRL (coeff -1 flips it back to the plain gradient times 1).
  plain_grads = jax.grad(loss)(params, jnp.float32(-1.0))
  np.testing.assert_allclose(reversed_grads["w"], -0.3 * plain_grads["w"], rtol=1e-5)
  # The discriminator's own gradient is untouched by the GRL.
  jax.tree.map(
    lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6),
    reversed_grads["d"],
    plain_grads["d"],
  )


def test_gradient_step_lowers_domain_loss_for_discriminator_raises_for_features():
  params, loss = _setup()
  coeff = jnp.float32(1.0)
  grads = jax.grad(loss)(params, coeff)
  before = loss(params, coeff)
  lr = 0.05
  disc_step = {
    "w": params["w"],
    "d": jax.tree.map(lambda p, g: p - lr * g, params["d"], grads["d"]),
  }
  feat_step = {"w": params["w"] - lr * grads["w"], "d": params["d"]}
  assert loss(disc_step, coeff) < before  # The discriminator gets better ...
  assert loss(feat_step, coeff) > before  # ... and the features fool it more.

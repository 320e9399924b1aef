"""Adversarial alignment: domain loss values, the signs of its gradients, the collapse monitor."""

import jax
import jax.numpy as jnp
import numpy as np

from tljax.losses import adversarial
from tljax.losses.adversarial import CollapseMonitor
from tljax.models.discriminator import DomainDiscriminator


def test_domain_loss_at_known_logits():
  logits = jnp.array([0.0, 2.0, 2.0])
  labels = jnp.array([1.0, 1.0, 0.0])
  # BCE(z, y) = log(1 + e^-z) for y=1 and log(1 + e^z) for y=0.
  expected = [np.log(2.0), np.log1p(np.exp(-2.0)), np.log1p(np.exp(2.0))]
  np.testing.assert_allclose(adversarial.domain_loss(logits, labels), expected, rtol=1e-6)
  np.testing.assert_array_equal(adversarial.domain_correct(logits, labels), [0.0, 1.0, 0.0])


def _setup():
  features = jax.random.normal(jax.random.key(0), (8, 5))
  weights = jax.random.normal(jax.random.key(1), (5, 5)) * 0.5
  disc = DomainDiscriminator(hidden=(7,))
  disc_params = disc.init(jax.random.key(2), features, train=False)["params"]

  def loss(params, coeff):
    # A linear "feature extractor" W, then the discriminator behind the GRL.
    feats = features @ params["w"]
    discriminate = lambda f: disc.apply({"params": params["d"]}, f, train=True)
    return adversarial.domain_terms(discriminate, feats, 4, coeff)[0]

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


def _feed(monitor, pairs):
  scalars = [{"domain_acc_source": s, "domain_acc_target": t} for s, t in pairs]
  return [monitor.update(step, x) for step, x in enumerate(scalars)]


def test_warns_once_after_three_windows_at_chance():
  warnings = _feed(CollapseMonitor(), [(0.5, 0.51)] * 5)
  assert warnings[:2] == [None, None] and warnings[3:] == [None, None]
  assert "at chance" in warnings[2] and "step 2" in warnings[2]


def test_warns_after_three_windows_of_perfect_separation():
  warnings = _feed(CollapseMonitor(), [(0.99, 0.995)] * 3)
  assert "separates the domains perfectly" in warnings[2]


def test_healthy_or_interrupted_runs_do_not_warn():
  healthy = [(0.8, 0.7), (0.6, 0.65), (0.75, 0.7), (0.7, 0.6)]
  assert _feed(CollapseMonitor(), healthy) == [None] * 4
  # Two pinned windows, one healthy, two pinned: never three in a row.
  broken = [(0.5, 0.5), (0.5, 0.5), (0.7, 0.6), (0.5, 0.5), (0.5, 0.5)]
  assert _feed(CollapseMonitor(), broken) == [None] * 5
  # One domain at chance, the other not: not a collapse.
  assert _feed(CollapseMonitor(), [(0.5, 0.9)] * 4) == [None] * 4


def test_the_monitor_resumes_its_count_and_ignores_runs_without_a_discriminator():
  first = CollapseMonitor()
  assert _feed(first, [(0.5, 0.5)] * 2) == [None, None]
  resumed = CollapseMonitor()
  resumed.restore(first.state())
  assert "at chance" in _feed(resumed, [(0.5, 0.5)])[0]  # The third window in a row.
  assert CollapseMonitor().update(1, {"loss": 0.3}) is None

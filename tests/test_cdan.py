"""CDAN: the multilinear map, its randomized version's expectation, entropy conditioning."""

import jax
import jax.numpy as jnp
import numpy as np

from configs import digits
from tljax import methods
from tljax.methods import cdan


def test_multilinear_map_is_the_flattened_outer_product():
  f = jnp.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
  g = jnp.array([[0.25, 0.75], [1.0, 0.0]])
  t = cdan.multilinear_map(f, g)
  assert t.shape == (2, 6)
  np.testing.assert_allclose(t[0], [0.25, 0.75, 0.5, 1.5, 0.75, 2.25])
  np.testing.assert_allclose(t.reshape(2, 3, 2), f[:, :, None] * g[:, None, :])


def test_randomized_map_preserves_inner_products_in_expectation():
  # E <T(f, g), T(f', g')> = <f, f'> <g, g'> over R_f, R_g ~ N(0, 1) (Long et al. 2018, Thm. 2).
  rng = np.random.default_rng(0)
  f, g = jnp.array(rng.normal(size=(2, 6))), jax.nn.softmax(jnp.array(rng.normal(size=(2, 4))))
  exact = float(jnp.dot(f[0], f[1]) * jnp.dot(g[0], g[1]))
  np.testing.assert_allclose(
    jnp.dot(*cdan.multilinear_map(f, g)), exact, rtol=1e-5
  )  # The full map: exactly.

  def inner(key):
    r_f, r_g = jax.random.normal(key, (2, 6, 256))[0], jax.random.normal(key, (2, 6, 256))[1, :4]
    t = cdan.randomized_map(f, g, r_f, r_g)
    return jnp.dot(t[0], t[1])

  draws = jax.vmap(inner)(jax.random.split(jax.random.key(1), 2000))
  assert abs(float(draws.mean()) - exact) < 4 * float(draws.std()) / np.sqrt(2000)
  assert float(draws.std()) > 0.01 * abs(exact)  # It is random, just unbiased.


def _extras(features_dim, num_classes, map_kind="auto"):
  config = digits.get_config()
  config.method.name = "cdan"
  config.method.cdan.map = map_kind
  method = methods.create(config, num_classes)
  logits, features = jnp.zeros((2, num_classes)), jnp.ones((2, features_dim))
  return method.init(jax.random.key(0), logits, features)


def test_the_map_is_randomized_above_4096_dimensions_and_its_matrices_kept_untrained():
  full = _extras(400, 10)  # 4000 <= 4096: f ⊗ g.
  assert full.state == {}
  assert full.params["discriminator"]["MLP_0"]["Dense_0"]["kernel"].shape[0] == 4000
  randomized = _extras(768, 10)  # The digits network: 7680 > 4096.
  assert randomized.state["r_f"].shape == (768, 1024) and randomized.state["r_g"].shape == (
    10,
    1024,
  )
  assert randomized.params["discriminator"]["MLP_0"]["Dense_0"]["kernel"].shape[0] == 1024
  assert _extras(4, 10, "random").state["r_f"].shape == (4, 1024)


def test_entropy_weights_favour_confident_predictions_and_average_one_per_domain():
  probs = jnp.array([[0.98, 0.01, 0.01], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0], [0.9, 0.05, 0.05]])
  w = cdan.entropy_weights(probs, num_source=2)
  np.testing.assert_allclose([w[:2].mean(), w[2:].mean()], [1.0, 1.0], rtol=1e-6)
  assert w[0] > w[1] and w[3] > w[2]
  h = -np.sum(np.array(probs) * np.log(np.array(probs) + 1e-5), axis=1)
  raw = 1 + np.exp(-h)
  np.testing.assert_allclose(w[:2], raw[:2] / raw[:2].mean(), rtol=1e-5)

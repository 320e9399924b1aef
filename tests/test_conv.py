"""The CPU-arranged convolutions compute the plain network's maths."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import common
from tljax import models
from tljax.errors import ConfigError
from tljax.models import conv
from tljax.models.backbones import DigitsConvNet, max_pool_2x2, normalize_images


def _random(shape, seed):
  return jax.random.normal(jax.random.key(seed), shape)


def test_input_grad_by_rows_by_hand():
  # A 2x2 kernel on a 3x3 input, output gradient all ones: each input pixel
  # collects the kernel taps whose windows cover it.
  kernel = jnp.array([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1, 1)
  grad = conv.input_grad_by_rows(jnp.ones((1, 2, 2, 1)), kernel)
  np.testing.assert_array_equal(grad[0, :, :, 0], [[1, 3, 2], [4, 10, 6], [3, 7, 4]])


def test_fast_valid_conv_gradients_match_xla():
  x, kernel, probe = _random((2, 12, 12, 4), 0), _random((5, 5, 4, 6), 1), _random((2, 8, 8, 6), 2)

  def grads(impl):
    loss = lambda x, k: (conv.valid_conv(x, k, impl) * probe).sum()
    return jax.jit(jax.grad(loss, argnums=(0, 1)))(x, kernel)

  fast, xla = grads("fast"), grads("xla")
  np.testing.assert_array_equal(conv.valid_conv(x, kernel, "fast"), conv.valid_conv(x, kernel))
  for a, b in zip(fast, xla):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * float(jnp.abs(b).max()))
  # The row sums are not a no-op: dropping one kernel row changes the gradient.
  cut = kernel.at[0].set(0.0)
  assert float(jnp.abs(conv.input_grad_by_rows(probe, cut) - xla[0]).max()) > 1e-2


@pytest.mark.parametrize("size,kernel_size", [(28, 5), (10, 3), (27, 5)])
def test_pooled_conv_space_to_depth_matches_conv_then_pool(size, kernel_size):
  # 27 is odd: space-to-depth does not apply and the plain path must be taken.
  x, kernel = _random((3, size, size, 3), 3), _random((kernel_size, kernel_size, 3, 8), 4)
  plain = lambda x, k: max_pool_2x2(conv.valid_conv(x, k, "xla"))
  probe = _random(plain(x, kernel).shape, 5)

  def value_and_grad(pooled_conv):
    loss = lambda k: (pooled_conv(x, k) * probe).sum()
    return pooled_conv(x, kernel), jax.jit(jax.grad(loss))(kernel)

  (y_fast, g_fast), (y_xla, g_xla) = value_and_grad(conv.pooled_valid_conv), value_and_grad(plain)
  np.testing.assert_allclose(y_fast, y_xla, atol=1e-5 * float(jnp.abs(y_xla).max()))
  np.testing.assert_allclose(g_fast, g_xla, atol=1e-5 * float(jnp.abs(g_xla).max()))


def test_space_to_depth_kernel_places_each_tap():
  kernel = jnp.arange(9.0).reshape(3, 3, 1, 1) + 1  # taps 1..9
  new = conv.space_to_depth_kernel(kernel)  # [2, 2, (di, dj, c), (a, e, o)]
  assert new.shape == (2, 2, 4, 4)
  # Output (a, e) = (0, 0) reads old[2s + di, 2t + dj]; (1, 1) reads old[2s + di - 1, ...].
  assert new[0, 0, 0, 0] == kernel[0, 0, 0, 0] and new[1, 1, 0, 0] == kernel[2, 2, 0, 0]
  assert new[0, 0, 0, 3] == 0  # old[-1, -1]: outside the kernel.
  assert new[1, 1, 3, 3] == kernel[2, 2, 0, 0]  # di = dj = 1, a = e = 1: old[2, 2].
  assert float(new.sum()) == 4 * float(kernel.sum())  # Every tap once per output position.


class _FlaxConvNet(nn.Module):
  """The paper network as nn.Conv -> ReLU -> pool, the order PooledConv changes."""

  @nn.compact
  def __call__(self, images, train):
    del train
    x = normalize_images(images, "scale")
    for width in (32, 48):
      x = max_pool_2x2(nn.relu(nn.Conv(width, (5, 5), padding="VALID")(x)))
    return x.reshape(x.shape[0], -1)


@pytest.mark.parametrize("impl", ["xla", "fast"])
def test_digits_network_matches_flax_conv_relu_pool(impl):
  images = jax.random.randint(jax.random.key(6), (4, 28, 28, 3), 0, 256).astype(jnp.uint8)
  reference = _FlaxConvNet().init(jax.random.key(0), images, False)
  params = DigitsConvNet(conv_impl=impl).init(jax.random.key(0), images, False)
  # Same names, shapes and initial values: checkpoints are interchangeable.
  jax.tree.map(np.testing.assert_array_equal, params, reference)
  params = jax.tree.map(lambda p: p + 0.01, params)  # Non-zero biases.
  probe = _random((4, 768), 7)

  def value_and_grad(net):
    loss = lambda p: (net.apply(p, images, False) * probe).sum()
    return net.apply(params, images, False), jax.jit(jax.grad(loss))(params)

  (ours, our_grads), (theirs, their_grads) = (
    value_and_grad(DigitsConvNet(conv_impl=impl)),
    value_and_grad(_FlaxConvNet()),
  )
  if impl == "xla":  # The same operations as nn.Conv: bit-identical.
    np.testing.assert_array_equal(ours, theirs)
    jax.tree.map(np.testing.assert_array_equal, our_grads, their_grads)
  else:
    np.testing.assert_allclose(ours, theirs, atol=1e-5 * float(jnp.abs(theirs).max()))
    for a, b in zip(jax.tree.leaves(our_grads), jax.tree.leaves(their_grads)):
      np.testing.assert_allclose(a, b, atol=1e-4 * float(jnp.abs(b).max()))


def test_unknown_conv_impl_is_a_config_error():
  config = common.base_config()
  config.model.conv_impl = "onednn"
  with pytest.raises(ConfigError, match="config.model.conv_impl='onednn' is unknown"):
    models.build_classifier(config.model, 10)


@pytest.mark.parametrize("shape", [(2, 4, 6, 3), (2, 5, 7, 3)])
def test_max_pool_2x2_is_valid_max_pooling_with_the_gradient_on_each_windows_maximum(shape):
  x = np.random.default_rng(0).permutation(np.prod(shape)).reshape(shape).astype(np.float32)
  pooled = max_pool_2x2(jnp.asarray(x))
  np.testing.assert_array_equal(pooled, nn.max_pool(jnp.asarray(x), (2, 2), strides=(2, 2)))
  grad = np.asarray(jax.grad(lambda v: max_pool_2x2(v).sum())(jnp.asarray(x)))
  expected = np.zeros(shape, np.float32)  # By hand: 1 where a window's (distinct) maximum sits.
  b, h, w, c = shape
  for i in range(b):
    for r in range(0, h - 1, 2):
      for s in range(0, w - 1, 2):
        for k in range(c):
          window = x[i, r : r + 2, s : s + 2, k]
          dr, ds = np.unravel_index(window.argmax(), (2, 2))
          expected[i, r + dr, s + ds, k] = 1.0
  np.testing.assert_array_equal(grad, expected)

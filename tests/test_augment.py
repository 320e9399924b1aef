import jax
import numpy as np

from tljax.data import augment
from tljax.data.augment import random_shift


def test_zero_shift_is_identity():
  images = np.arange(2 * 4 * 4 * 1).reshape(2, 4, 4, 1)
  np.testing.assert_array_equal(random_shift(images, jax.random.key(0), 0), images)


def test_shift_moves_a_dot_by_at_most_max_shift():
  images = np.zeros((64, 9, 9, 1), np.float32)
  images[:, 4, 4, 0] = 1.0  # A dot in the centre, far from the edges.
  out = np.asarray(random_shift(images, jax.random.key(1), 2))
  assert np.all(out.sum(axis=(1, 2, 3)) == 1.0)  # Nothing lost or duplicated.
  ys, xs = np.nonzero(out[..., 0])[1:]
  assert np.all(np.abs(ys - 4) <= 2) and np.all(np.abs(xs - 4) <= 2)
  assert len(set(zip(ys.tolist(), xs.tolist()))) > 10  # Shifts actually vary.


def test_colour_jitter_scales_each_channel_or_inverts_within_range():
  images = np.full((256, 3, 3, 3), 50.0, np.float32)
  out = np.asarray(augment.colour_jitter(images, jax.random.key(2)))
  assert out.min() >= 0 and out.max() <= 255
  inverted = out[:, 0, 0, 0] > 127.5  # 255 - 50 * gain >= 180 > 75 >= 50 * gain.
  assert 0.35 < inverted.mean() < 0.65
  gains = np.where(inverted[:, None], 255.0 - out[:, 0, 0, :], out[:, 0, 0, :]) / 50.0
  assert gains.min() >= 0.5 - 1e-5 and gains.max() <= 1.5 + 1e-5
  assert np.ptp(gains, axis=1).mean() > 0.1  # Each channel draws its own gain.
  np.testing.assert_array_equal(out, out[:, :1, :1, :].repeat(3, 1).repeat(3, 2))  # Per image.


def test_weak_view_without_colour_is_the_shift_alone():
  images = np.random.default_rng(0).uniform(0, 255, (4, 8, 8, 3)).astype(np.float32)
  key = jax.random.key(3)
  plain = augment.Images(shift=2).weak(images, key)
  np.testing.assert_array_equal(plain, random_shift(images, key, 2))
  coloured = np.asarray(augment.Images(shift=2, colour=True).weak(images, key))
  assert coloured.shape == images.shape and not np.allclose(coloured, plain)

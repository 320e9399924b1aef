import jax
import numpy as np

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

"""Self-training: pseudo-labels below the threshold are masked; the weak view gets no gradient."""

import jax
import jax.numpy as jnp
import numpy as np

from tljax.core.classification import cross_entropy
from tljax.data import augment
from tljax.methods import self_training


def test_pseudo_labels_below_the_threshold_are_masked():
  weak = jnp.log(jnp.array([[0.95, 0.05], [0.6, 0.4], [0.08, 0.92]]))
  strong = jnp.array([[0.0, 1.0], [3.0, -3.0], [0.5, 0.0]])
  loss, kept = self_training.pseudo_label_loss(weak, strong, threshold=0.9)
  expected = (
    cross_entropy(strong[:1], jnp.array([0]))[0] + cross_entropy(strong[2:], jnp.array([1]))[0]
  ) / 3
  np.testing.assert_allclose(loss, expected, rtol=1e-6)
  np.testing.assert_allclose(kept, 2 / 3, rtol=1e-6)
  grad_weak = jax.grad(lambda w: self_training.pseudo_label_loss(w, strong, 0.9)[0])(weak)
  np.testing.assert_array_equal(grad_weak, 0.0)
  # Nothing confident enough: no loss at all.
  assert self_training.pseudo_label_loss(weak, strong, threshold=0.99)[0] == 0.0


def test_strong_augmentation_cuts_out_a_grey_square_and_keeps_pixel_range():
  images = jnp.full((16, 12, 12, 3), 200, jnp.uint8)
  out = augment.strong_augment(images, jax.random.key(0), max_shift=2, cutout=4)
  assert out.shape == images.shape and out.dtype == jnp.float32
  assert float(out.min()) >= 0.0 and float(out.max()) <= 255.0
  grey = np.isclose(np.asarray(out), 127.5).all(axis=-1).sum(axis=(1, 2))
  assert ((grey >= 4) & (grey <= 16)).all(), grey  # A 4x4 square, clipped at the borders.
  again = augment.strong_augment(images, jax.random.key(0), max_shift=2, cutout=4)
  np.testing.assert_array_equal(out, again)  # A pure function of the key.

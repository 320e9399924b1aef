"""MNIST-M style blending: |background patch - digit| per channel (Ganin 2016)."""

import numpy as np


def sklearn_photos() -> list[np.ndarray]:
  """The two colour photos scikit-learn bundles (china, flower): uint8 [H, W, 3]."""
  from sklearn.datasets import load_sample_images  # pylint: disable=g-import-not-at-top

  return list(load_sample_images().images)


def blend_with_patches(digits: np.ndarray, photos: list[np.ndarray], seed: int) -> np.ndarray:
  """Blends each digit with a random crop of a random photo.

  Args:
    digits: uint8 [N, H, W] or [N, H, W, 1] gray digits (bright on dark).
    photos: uint8 colour images [h, w, 3], each at least H x W.
    seed: fixes which photo and crop each digit gets.

  Returns:
    uint8 [N, H, W, 3]: |patch - digit| for each channel.
  """
  digits = digits.reshape(digits.shape[:3])
  n, h, w = digits.shape
  rng = np.random.default_rng(seed)
  out = np.empty((n, h, w, 3), np.uint8)
  for i in range(n):
    photo = photos[rng.integers(len(photos))]
    y = rng.integers(photo.shape[0] - h + 1)
    x = rng.integers(photo.shape[1] - w + 1)
    patch = photo[y : y + h, x : x + w].astype(np.int16)
    out[i] = np.abs(patch - digits[i][..., None].astype(np.int16)).astype(np.uint8)
  return out

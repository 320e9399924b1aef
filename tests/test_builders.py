"""The embedded TFDS builders: splits, shapes, dtypes, labels, disjointness."""

import numpy as np
import pytest

from tljax.data import pipeline
from tljax.data.builders import blending, digits


@pytest.mark.parametrize(
  "name,split,size,channels",
  [
    ("digits", "train", 599, 1),
    ("digits", "test", 300, 1),
    ("digits_m", "train", 5980, 3),
    ("digits_m", "test", 300, 3),
  ],
)
def test_splits_shapes_dtypes_and_labels(data_dir, name, split, size, channels):
  arrays = pipeline.load_split(name, split, data_dir=data_dir)
  assert arrays["input"].shape == (size, 28, 28, channels)
  assert arrays["input"].dtype == np.uint8
  counts = np.bincount(arrays["label"], minlength=10)
  assert counts.sum() == size and len(counts) == 10
  assert counts.min() >= size // 20  # Every class is present in quantity.


def test_domains_and_splits_are_disjoint():
  parts = [digits.domain_indices(d, s) for d in ("digits", "digits_m") for s in ("train", "test")]
  everything = np.concatenate(parts)
  assert len(everything) == len(set(everything.tolist())) == 1797


def test_target_is_the_source_digit_blended_with_a_photo(data_dir):
  # digits_m pixels are |patch - digit|, so where the digit is black (0) the
  # photo shows through and the image is far from gray.
  target = pipeline.load_split("digits_m", "test", data_dir=data_dir)["input"]
  spread = target.astype(int).max(-1) - target.astype(int).min(-1)
  assert spread.mean() > 10  # Colourful, unlike the gray source.


def test_blend_formula_on_a_hand_made_example():
  digit = np.array([[[0, 255], [100, 50]]], np.uint8)  # [1, 2, 2]
  photo = np.full((2, 2, 3), [10, 200, 255], np.uint8)
  out = blending.blend_with_patches(digit, [photo], seed=0)
  np.testing.assert_array_equal(out[0, 0, 0], [10, 200, 255])  # |p - 0|
  np.testing.assert_array_equal(out[0, 0, 1], [245, 55, 0])  # |p - 255|
  np.testing.assert_array_equal(out[0, 1, 0], [90, 100, 155])  # |p - 100|


def test_unknown_split_is_a_clear_error(data_dir):
  from tljax.errors import ConfigError  # pylint: disable=g-import-not-at-top

  with pytest.raises(ConfigError, match="no split 'validation'"):
    pipeline.load_split("digits", "validation", data_dir=data_dir)

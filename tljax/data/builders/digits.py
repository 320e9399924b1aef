"""Embedded offline digits pair: `digits` (source) and `digits_m` (target).

Both come from the 1,797 UCI handwritten digits that scikit-learn bundles
(8x8, 0..16), upsampled bilinearly to 28x28 uint8. A fixed permutation splits
them into two disjoint halves, so no image is in both domains:

  digits   (gray, 28x28x1):  train 599, test 300
  digits_m (RGB,  28x28x3):  train 598, test 300, each digit blended with a
      random patch of scikit-learn's two colour photos as |patch - digit|,
      the way MNIST-M is made from MNIST.
"""

import numpy as np
import tensorflow_datasets as tfds

from tljax.data.builders import blending

IMAGE_SIZE = 28
NUM_SOURCE = 899
TEST_SIZE = 300
_SPLIT_SEED = 0
_BLEND_SEED = 1


def _uci_digits_28() -> tuple[np.ndarray, np.ndarray]:
  """All 1,797 UCI digits as uint8 [N, 28, 28] and int labels [N]."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  from sklearn.datasets import load_digits  # pylint: disable=g-import-not-at-top

  digits = load_digits()
  images = np.stack(
    [
      np.asarray(
        Image.fromarray((img * (255.0 / 16.0)).astype(np.float32), mode="F").resize(
          (IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR
        )
      )
      for img in digits.images
    ]
  )
  return np.clip(np.rint(images), 0, 255).astype(np.uint8), digits.target


def domain_indices(domain: str, split: str) -> np.ndarray:
  """Indices into the UCI digits of `domain` in {digits, digits_m}, `split`."""
  order = np.random.default_rng(_SPLIT_SEED).permutation(1797)
  half = order[:NUM_SOURCE] if domain == "digits" else order[NUM_SOURCE:]
  return half[-TEST_SIZE:] if split == "test" else half[:-TEST_SIZE]


class _DigitsBase(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """Features, splits and the gray generator; DigitsM overrides the generator."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  CHANNELS = 1

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
      features=tfds.features.FeaturesDict(
        {
          "image": tfds.features.Image(shape=(IMAGE_SIZE, IMAGE_SIZE, self.CHANNELS)),
          "label": tfds.features.ClassLabel(num_classes=10),
        }
      ),
      supervised_keys=("image", "label"),
      homepage="https://archive.ics.uci.edu/dataset/80",
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Embedded: scikit-learn ships the data.
    images, labels = _uci_digits_28()
    return {split: self._generate_examples(images, labels, split) for split in ("train", "test")}

  def _generate_examples(self, images, labels, split):
    for i in domain_indices(self.name, split):
      yield int(i), {"image": images[i][..., None], "label": int(labels[i])}


class Digits(_DigitsBase):
  """UCI digits (the half used as source), gray 28x28."""


class DigitsM(_DigitsBase):
  """UCI digits (the other half) blended with colour photo patches, 28x28x3.

  Each train digit appears `TRAIN_BLENDS` times, each time on another patch
  (the unlabelled target stream needs more than 598 images to align with);
  each test digit appears once.
  """

  CHANNELS = 3
  TRAIN_BLENDS = 10

  def _generate_examples(self, images, labels, split):
    idx = domain_indices(self.name, split)
    copies = self.TRAIN_BLENDS if split == "train" else 1
    seed = _BLEND_SEED + 100 * (split == "test")
    photos = blending.sklearn_photos()
    for copy in range(copies):
      blended = blending.blend_with_patches(images[idx], photos, seed + copy)
      for i, image in zip(idx, blended):
        yield f"{i}_{copy}", {"image": image, "label": int(labels[i])}

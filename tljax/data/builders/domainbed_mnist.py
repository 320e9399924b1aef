"""RotatedMNIST and ColoredMNIST built as DomainBed builds them (Gulrajani & Lopez-Paz 2021).

  rotated_mnist/<angle>   one environment: 0, 15, 30, 45, 60 or 75 degrees; 10 classes, grey
  colored_mnist/<env>     plus90, plus80 or minus90 (DomainBed's "+90%", "+80%", "-90%");
                          2 classes (digit < 5), the digit in the red or the green channel

As DomainBed's `MultipleEnvironmentMNIST`: the 70,000 MNIST train and test
images are shuffled once and environment i of n takes every n-th image from
the i-th. RotatedMNIST turns each image by its environment's angle (PIL's
bicubic rotation with zero fill, as torchvision's `rotate` does).
ColoredMNIST's label is 1 for digits 0-4, flipped with probability 0.25; the
colour is the label flipped with probability e = 0.1, 0.2, 0.9, and the image
keeps only that colour's channel (0 red, 1 green), so colour predicts the
label 90%, 80% or 10% of the time while the digit's shape predicts it 75%.

Where tljax differs, by necessity: the shuffle and the coin flips are NumPy's
with seed 0 (DomainBed draws them with torch under its trial seed), so an
environment holds other images with the same statistics; ColoredMNIST is
stored as RGB with an empty blue channel (TFDS images have 1, 3 or 4
channels); each environment has a seeded 80/20 `train`/`test` split (DomainBed
holds 20% of every environment out at training time, by its own seeded split).
Built offline from the four MNIST IDX files in the manual dir, else from TFDS's `mnist`.
"""

import numpy as np
from PIL import Image
import tensorflow_datasets as tfds

from tljax.data.builders import mnist

SEED = 0
ANGLES = (0, 15, 30, 45, 60, 75)
COLOUR_FLIPS = {"plus90": 0.1, "plus80": 0.2, "minus90": 0.9}  # DomainBed's e per environment.
LABEL_NOISE = 0.25
TEST_FRACTION = 0.2


def environment(images: np.ndarray, labels: np.ndarray, index: int, count: int):
  """(images, labels) of environment `index` of `count`: every count-th of the shuffled set."""
  order = np.random.default_rng(SEED).permutation(len(images))
  return images[order][index::count], labels[order][index::count]


def rotate(images: np.ndarray, degrees: float) -> np.ndarray:
  """uint8 [N, 28, 28] turned counter-clockwise by `degrees` (bicubic, zero fill)."""
  return np.stack([
    np.asarray(Image.fromarray(x).rotate(degrees, resample=Image.BICUBIC, fillcolor=0))
    for x in images
  ])  # fmt: skip


def colour(images: np.ndarray, digits: np.ndarray, flip: float, rng: np.random.Generator):
  """(RGB uint8 [N, 28, 28, 3], binary labels [N]): ColoredMNIST's construction."""
  labels = (digits < 5).astype(np.int64) ^ (rng.random(len(digits)) < LABEL_NOISE)
  colours = labels ^ (rng.random(len(digits)) < flip)
  out = np.zeros((*images.shape, 3), np.uint8)
  out[np.arange(len(images)), :, :, colours] = images
  return out, labels


def train_test(count: int, index: int) -> tuple[np.ndarray, np.ndarray]:
  """Row numbers of an environment's `train` and `test` splits (seeded, TEST_FRACTION held out)."""
  order = np.random.default_rng([SEED, index]).permutation(count)
  held_out = int(round(TEST_FRACTION * count))
  return np.sort(order[held_out:]), np.sort(order[:held_out])


class _DomainBedMnist(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = "Optional: the four MNIST IDX files, to build without internet."
  NAMES: tuple[str, ...] = ()
  CHANNELS, CLASSES = 1, 10

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
      features=mnist.digit_features(self.CHANNELS, self.CLASSES),
      supervised_keys=("image", "label"),
      homepage="https://github.com/facebookresearch/DomainBed",
    )

  def _split_generators(self, dl_manager):
    manual_dir = mnist.optional_manual_dir(dl_manager)
    parts = [mnist.load_arrays(split, manual_dir) for split in ("train", "test")]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    index = self.NAMES.index(self.builder_config.name)
    images, labels = self.transform(*environment(images, labels, index, len(self.NAMES)), index)
    train, test = train_test(len(images), index)
    return {
      "train": self._generate_examples(images[train], labels[train]),
      "test": self._generate_examples(images[test], labels[test]),
    }

  def _generate_examples(self, images, labels):
    for index, (image, label) in enumerate(zip(images, labels)):
      yield index, {"image": image if image.ndim == 3 else image[..., None], "label": int(label)}


class RotatedMnist(_DomainBedMnist):
  """One RotatedMNIST environment (DomainBed): MNIST digits turned by a fixed angle."""

  NAMES = tuple(str(a) for a in ANGLES)
  BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=n) for n in NAMES]

  def transform(self, images, labels, index):
    return rotate(images, ANGLES[index]), labels


class ColoredMnist(_DomainBedMnist):
  """One ColoredMNIST environment (DomainBed): binary labels, a colour that predicts them."""

  NAMES = tuple(COLOUR_FLIPS)
  BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=n) for n in NAMES]
  CHANNELS, CLASSES = 3, 2

  def transform(self, images, digits, index):
    rng = np.random.default_rng([SEED, index, 2])
    return colour(images, digits, COLOUR_FLIPS[self.NAMES[index]], rng)

"""Corrupted test sets for test-time adaptation, built offline from the MNIST IDX files.

  mnist_corruptions/<name>               MNIST test under one MNIST-C-style corruption
                                         (`corruptions.MNIST_C`, at MNIST-C's one severity)
  mnist_m_corruptions/<name>_<severity>  MNIST-M (offline backgrounds) test under one colour
                                         corruption (`corruptions.COLOUR`) at severity 1-5

Each is the 10,000 test images, the same digits in the same order as
`mnist` / `mnist_m/offline` test, corrupted with seed 0 (`tljax/data/corruptions.py`),
so a builder gives the same bytes on every machine. Only a `test` split:
the model adapts on it while predicting it.
"""

import numpy as np
import tensorflow_datasets as tfds

from tljax.data import corruptions
from tljax.data.builders import blending, mnist, mnist_m

SEED = 0


class _Corrupted(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = "Optional: the four MNIST IDX files, to build without internet."
  CHANNELS = 1

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
      features=mnist.digit_features(self.CHANNELS),
      supervised_keys=("image", "label"),
      homepage="https://arxiv.org/abs/1906.02337",
    )

  def _split_generators(self, dl_manager):
    manual_dir = mnist.optional_manual_dir(dl_manager)
    images, labels = mnist.load_arrays("test", manual_dir)
    name, severity = self.corruption
    corrupted = corruptions.corrupt(self.clean(images), name, severity, SEED)
    return {"test": self._generate_examples(corrupted, labels)}

  def _generate_examples(self, images, labels):
    for index, (image, label) in enumerate(zip(images, labels)):
      yield index, {"image": image, "label": int(label)}


class MnistCorruptions(_Corrupted):
  """MNIST test under one MNIST-C-style corruption (grey, 28 x 28)."""

  BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=n) for n in corruptions.MNIST_C]

  @property
  def corruption(self) -> tuple[str, int]:
    return self.builder_config.name, corruptions.MNIST_C_SEVERITY

  def clean(self, images: np.ndarray) -> np.ndarray:
    return images[..., None] if images.ndim == 3 else images


class MnistMCorruptions(_Corrupted):
  """MNIST-M (offline backgrounds) test under one colour corruption at one severity."""

  CHANNELS = 3
  BUILDER_CONFIGS = [
    tfds.core.BuilderConfig(name=f"{n}_{s}") for n in corruptions.COLOUR for s in range(1, 6)
  ]

  @property
  def corruption(self) -> tuple[str, int]:
    name, severity = self.builder_config.name.rsplit("_", 1)
    return name, int(severity)

  def clean(self, images: np.ndarray) -> np.ndarray:
    """The mnist_m/offline test images (the same blend and seed as its builder)."""
    return blending.blend_with_patches(images, mnist_m.offline_photos(), mnist_m.SEEDS["test"])

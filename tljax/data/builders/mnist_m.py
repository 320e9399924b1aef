"""MNIST-M (Ganin et al. 2016) as a TFDS builder, with the backgrounds in its name.

Each MNIST digit, as RGB, is blended with a random 28x28 patch of a colour
photo as |patch - digit| (seeded, so the dataset is the same on every
machine); train comes from MNIST train (60,000), test from MNIST test (10,000).

Builder configs (the name says which backgrounds were used, and results.json
records the full name, so the two are never mixed up):

  mnist_m/bsds500  Ganin's recipe: patches of the BSDS500 train photos
                   (downloaded, 200 photos).
  mnist_m/offline  No network: six colour photos that scikit-learn and
                   scikit-image bundle (china, flower, astronaut, chelsea,
                   coffee, rocket). Harder to tell from BSDS500 by eye than
                   by accuracy: report it as "MNIST-M (offline backgrounds)".

MNIST itself comes from IDX files in the manual dir when they are there (see
`mnist.py`), otherwise from TFDS's `mnist`.
"""

import glob
import os

import numpy as np
import tensorflow_datasets as tfds

from tljax.data.builders import blending, digests, mnist

BSDS500_URL = (
  "http://www.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/BSR/BSR_bsds500.tgz"
)
SEEDS = {"train": 0, "test": 1}  # The blend seeds of each split.


def offline_photos() -> list[np.ndarray]:
  """The bundled colour photos: scikit-learn's two and four of scikit-image's."""
  import skimage.data  # pylint: disable=g-import-not-at-top

  extra = [skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee()]
  return blending.sklearn_photos() + extra + [skimage.data.rocket()]


def bsds500_photos(root: str) -> list[np.ndarray]:
  """The BSDS500 train photos under an extracted BSR_bsds500 archive."""
  from PIL import Image  # pylint: disable=g-import-not-at-top

  paths = sorted(glob.glob(os.path.join(root, "**", "images", "train", "*.jpg"), recursive=True))
  if not paths:
    raise FileNotFoundError(f"no BSDS500 train photos (images/train/*.jpg) under {root}")
  return [np.asarray(Image.open(p).convert("RGB")) for p in paths]


class MnistM(tfds.core.GeneratorBasedBuilder):
  """MNIST digits blended with colour photo patches: 28x28x3, 10 classes."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = "Optional: the four MNIST IDX files, to build without internet."
  BUILDER_CONFIGS = [
    tfds.core.BuilderConfig(name="bsds500", description="Ganin's BSDS500 backgrounds."),
    tfds.core.BuilderConfig(name="offline", description="Bundled sklearn/skimage photos."),
  ]

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
      features=mnist.digit_features(3),
      supervised_keys=("image", "label"),
      homepage="https://arxiv.org/abs/1505.07818",
    )

  def _photos(self, dl_manager) -> list[np.ndarray]:
    if self.builder_config.name == "offline":
      return offline_photos()
    archive = dl_manager.download(BSDS500_URL)
    digests.check(BSDS500_URL, archive)
    return bsds500_photos(os.fspath(dl_manager.extract(archive)))

  def _split_generators(self, dl_manager):
    photos = self._photos(dl_manager)
    manual_dir = mnist.optional_manual_dir(dl_manager)
    return {
      split: self._generate_examples(mnist.load_arrays(split, manual_dir), photos, seed)
      for split, seed in SEEDS.items()
    }

  def _generate_examples(self, digits_and_labels, photos, seed):
    images, labels = digits_and_labels
    blended = blending.blend_with_patches(images, photos, seed)
    for index, (image, label) in enumerate(zip(blended, labels)):
      yield index, {"image": image, "label": int(label)}

"""USPS handwritten digits (Hull 1994) as a TFDS builder; TFDS has none.

16x16 gray, 7,291 train and 2,007 test images, downloaded from the LIBSVM
mirror, whose files hold one digit per line as `label index:value ...` with
values in [-1, 1] and labels 1..10 for digits 0..9.
"""

import bz2

import numpy as np
import tensorflow_datasets as tfds

from tljax.data.builders import digests

URLS = {
  "train": "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/usps.bz2",
  "test": "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/usps.t.bz2",
}
SIZE = 16


def parse_libsvm(text: str) -> tuple[np.ndarray, np.ndarray]:
  """uint8 images [N, 16, 16] and labels 0..9 [N] from LIBSVM USPS text."""
  images, labels = [], []
  for line in filter(None, (line.strip() for line in text.splitlines())):
    label, *pairs = line.split()
    pixels = np.full(SIZE * SIZE, -1.0, np.float32)  # LIBSVM omits zeros only.
    for pair in pairs:
      index, value = pair.split(":")
      pixels[int(index) - 1] = float(value)
    images.append(np.rint((pixels + 1.0) * 127.5).clip(0, 255).astype(np.uint8))
    labels.append(int(float(label)) - 1)
  return np.stack(images).reshape(-1, SIZE, SIZE), np.asarray(labels)


class Usps(tfds.core.GeneratorBasedBuilder):
  """USPS digits, 16x16x1, 10 classes."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
      features=tfds.features.FeaturesDict(
        {
          "image": tfds.features.Image(shape=(SIZE, SIZE, 1)),
          "label": tfds.features.ClassLabel(num_classes=10),
        }
      ),
      supervised_keys=("image", "label"),
      homepage="https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass.html#usps",
    )

  def _split_generators(self, dl_manager):
    paths = dl_manager.download(URLS)
    for split, path in paths.items():
      digests.check(URLS[split], path)
    return {split: self._generate_examples(path) for split, path in paths.items()}

  def _generate_examples(self, path):
    with bz2.open(path, "rt") as f:
      images, labels = parse_libsvm(f.read())
    for index, (image, label) in enumerate(zip(images, labels)):
      yield index, {"image": image[..., None], "label": int(label)}

"""MNIST from the four canonical IDX files, for machines without internet.

With internet, tljax uses TFDS's own `mnist` builder. Offline, put the files

  train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
  t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz

(gzipped or not; `train-images.idx3-ubyte`-style names with a dot work too)
in a directory and pass it as `config.data.manual_dir`.
`MnistFromIdx` writes the same dataset, under the same name and version, as
TFDS's builder, so either one prepares `DATA_DIR/mnist/3.0.1` once.
"""

import gzip
import os
import zlib

import numpy as np
import tensorflow_datasets as tfds

from tljax.errors import DataError

FILES = {
  "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
  "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find(directory: str, stem: str) -> str | None:
  """The file of `stem` in `directory`: gzipped or not, '-idx' or '.idx' in the name."""
  for base in (stem, stem.replace("-idx", ".idx")):
    for name in (base + ".gz", base):
      path = os.path.join(directory, name)
      if os.path.exists(path):
        return path
  return None


def has_idx_files(directory: str | None) -> bool:
  """Whether `directory` holds all four MNIST IDX files."""
  return bool(directory) and all(
    _find(os.path.expanduser(os.fspath(directory)), stem)
    for pair in FILES.values()
    for stem in pair
  )


def read_idx(path: str) -> np.ndarray:
  """An IDX file (optionally gzipped) of unsigned bytes as a numpy array."""
  opener = gzip.open if path.endswith(".gz") else open
  try:
    with opener(path, "rb") as f:
      data = f.read()
  except (EOFError, OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError.
    raise DataError(
      f"{path} cannot be read ({type(e).__name__}: {e}); it is damaged or cut short: "
      "download it again"
    ) from None
  if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 0x08:
    raise DataError(
      f"{path} is not an IDX file of unsigned bytes (magic {data[:4].hex() or 'none'}); "
      "put the MNIST IDX files from yann.lecun.com's layout there"
    )
  ndim = data[3]
  shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
  body = np.frombuffer(data, np.uint8, offset=min(4 + 4 * ndim, len(data)))
  if body.size != int(np.prod(shape)):
    raise DataError(
      f"{path}: header says {shape} but holds {body.size} bytes; it is cut short: download it again"
    )
  return body.reshape(shape)


def read_split(directory: str, split: str) -> tuple[np.ndarray, np.ndarray]:
  """uint8 images [N, 28, 28] and labels [N] of `split` from the IDX files."""
  directory = os.path.expanduser(directory)
  images_stem, labels_stem = FILES[split]
  images = read_idx(_find(directory, images_stem))
  labels = read_idx(_find(directory, labels_stem))
  if len(images) != len(labels):
    raise DataError(f"{directory}: {len(images)} {split} images but {len(labels)} labels")
  return images, labels


def optional_manual_dir(dl_manager) -> str | None:
  """The manual dir if one was given (the IDX files), else None: MNIST then comes from TFDS."""
  try:
    return os.fspath(dl_manager.manual_dir)
  except AssertionError:  # TFDS's way of saying no manual dir was given.
    return None


def digit_features(channels: int, classes: int = 10) -> tfds.features.FeaturesDict:
  """The features of a dataset made from MNIST's 28 x 28 digits: an image and its label."""
  return tfds.features.FeaturesDict(
    {
      "image": tfds.features.Image(shape=(28, 28, channels)),
      "label": tfds.features.ClassLabel(num_classes=classes),
    }
  )


def load_arrays(split: str, manual_dir: str | None) -> tuple[np.ndarray, np.ndarray]:
  """MNIST `split` as arrays: from IDX files in `manual_dir`, else through TFDS."""
  if has_idx_files(manual_dir):
    return read_split(manual_dir, split)
  data = tfds.as_numpy(tfds.load("mnist", split=split, batch_size=-1))
  return data["image"][..., 0], data["label"]


class MnistFromIdx(tfds.image_classification.MNIST, skip_registration=True):
  """TFDS's `mnist`, prepared from IDX files in the manual dir instead of the web."""

  name = "mnist"
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
    "Put the four MNIST IDX files (" + ", ".join(s for p in FILES.values() for s in p) + ", "
    "gzipped or not) in the manual dir."
  )

  def _split_generators(self, dl_manager):
    manual_dir = os.fspath(dl_manager.manual_dir)
    if not has_idx_files(manual_dir):
      raise AssertionError(f"{manual_dir} lacks MNIST IDX files")
    return {split: self._generate_from_idx(*read_split(manual_dir, split)) for split in FILES}

  def _generate_from_idx(self, images, labels):
    for index, (image, label) in enumerate(zip(images, labels)):
      yield index, {"image": image[..., None], "label": int(label)}

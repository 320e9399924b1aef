"""MNIST from IDX files, MNIST-M, USPS and the SVHN/USPS pipelines (mock data)."""

import gzip
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tljax import core
from tljax.data import pipeline, splits
from tljax.data import streams as streams_lib
from tljax.data.builders import blending, mnist, mnist_m, usps
from tljax.errors import DataError

SIZES = {"train": 12, "test": 8}


def _write_idx(path, array: np.ndarray, gz: bool) -> None:
  header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
  data = header + array.astype(np.uint8).tobytes()
  if gz:
    with gzip.open(str(path) + ".gz", "wb") as f:
      f.write(data)
  else:
    path.write_bytes(data)


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory):
  """Tiny MNIST IDX files (train gzipped, test not) and the arrays they hold."""
  path = tmp_path_factory.mktemp("mnist_idx")
  rng = np.random.default_rng(0)
  arrays = {}
  for split, n in SIZES.items():
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = np.arange(n) % 10
    images_stem, labels_stem = mnist.FILES[split]
    _write_idx(path / images_stem, images, gz=split == "train")
    _write_idx(path / labels_stem, labels, gz=split == "train")
    arrays[split] = (images, labels)
  return str(path), arrays


def _sorted_rows(images: np.ndarray) -> np.ndarray:
  flat = images.reshape(len(images), -1)
  return flat[np.lexsort(flat.T[::-1])]


def test_read_idx_round_trip_and_bad_magic(idx_dir, tmp_path):
  directory, arrays = idx_dir
  images, labels = mnist.read_split(directory, "train")
  np.testing.assert_array_equal(images, arrays["train"][0])
  np.testing.assert_array_equal(labels, arrays["train"][1])
  (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01" + (3).to_bytes(4, "big") + b"abc")
  with pytest.raises(DataError, match="not an IDX file of unsigned bytes"):
    mnist.read_idx(str(tmp_path / "bad"))
  # A dotted name (train-images.idx3-ubyte) is found too.
  dotted = tmp_path / "dotted"
  dotted.mkdir()
  for name in os.listdir(directory):
    os.link(os.path.join(directory, name), dotted / name.replace("-idx", ".idx"))
  np.testing.assert_array_equal(mnist.read_split(str(dotted), "train")[0], images)


@pytest.mark.parametrize("split", ["train", "test"])
def test_mnist_from_manual_dir_holds_the_idx_images(idx_dir, tmp_path, split):
  directory, arrays = idx_dir
  loaded = pipeline.load_split("mnist", split, data_dir=str(tmp_path), manual_dir=directory)
  assert loaded["input"].shape == (SIZES[split], 28, 28, 1) and loaded["input"].dtype == np.uint8
  # TFDS stores examples in its own order: compare as sets of (image, label).
  got = np.concatenate([loaded["input"].reshape(SIZES[split], -1), loaded["label"][:, None]], 1)
  want = np.concatenate([arrays[split][0].reshape(SIZES[split], -1), arrays[split][1][:, None]], 1)
  np.testing.assert_array_equal(_sorted_rows(got), _sorted_rows(want))


def test_mnist_m_offline_is_ganins_blend_of_the_mnist_digits(idx_dir, tmp_path):
  directory, arrays = idx_dir
  loaded = pipeline.load_split(
    "mnist_m/offline", "test", data_dir=str(tmp_path), manual_dir=directory
  )
  assert loaded["input"].shape == (SIZES["test"], 28, 28, 3)
  want = blending.blend_with_patches(arrays["test"][0], mnist_m.offline_photos(), seed=1)
  np.testing.assert_array_equal(_sorted_rows(loaded["input"]), _sorted_rows(want))
  np.testing.assert_array_equal(np.sort(loaded["label"]), np.sort(arrays["test"][1]))


def test_bsds500_photos_are_read_from_the_extracted_archive(tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top

  train = tmp_path / "BSR" / "BSDS500" / "data" / "images" / "train"
  train.mkdir(parents=True)
  for i in range(2):
    Image.fromarray(np.full((40, 50, 3), 60 * i, np.uint8)).save(train / f"{i}.jpg")
  photos = mnist_m.bsds500_photos(str(tmp_path))
  assert [p.shape for p in photos] == [(40, 50, 3)] * 2
  with pytest.raises(FileNotFoundError, match="no BSDS500 train photos"):
    mnist_m.bsds500_photos(str(tmp_path / "BSR" / "BSDS500" / "data" / "images" / "test"))


def test_usps_libsvm_lines_parse_to_images_and_zero_based_labels():
  # Label 10 is digit 9; omitted indices are -1 (black); 1.0 is white.
  images, labels = usps.parse_libsvm("10 1:1 256:0\n1 2:-1\n")
  np.testing.assert_array_equal(labels, [9, 0])
  assert images.shape == (2, 16, 16) and images.dtype == np.uint8
  assert images[0, 0, 0] == 255 and images[0, 15, 15] == 128 and images[0, 0, 1] == 0
  assert images[1].max() == 0


@pytest.mark.parametrize(
  "config_name,size,channels",
  [("svhn_mnist", 32, 3), ("mnist_usps", 28, 1)],
)
def test_benchmark_pipelines_on_mock_data(config_name, size, channels, tmp_path):
  import importlib  # pylint: disable=g-import-not-at-top

  config = importlib.import_module(f"configs.{config_name}").get_config()
  config.data.data_dir = str(tmp_path)
  config.data.source_val_size = config.data.target_val_size = 0  # 16 mock examples per split.
  with tfds.testing.mock_data(num_examples=16):
    data = splits._load_domains(config.data)  # pylint: disable=protected-access
  for arrays in (data.source_train, data.source_test, data.target_train, data.target_test):
    assert arrays["input"].shape == (16, size, size, channels)
    assert arrays["input"].dtype == np.uint8
    assert arrays["label"].min() >= 0 and arrays["label"].max() < 10
  names = (core.SOURCE, core.TARGET)
  streams = splits.training_streams(config, splits.training_sets(config, data, names), names)
  batch = next(streams_lib.batches(streams))
  bs = config.data.batch_size
  assert batch["source"]["input"].shape == (bs, size, size, channels)
  assert batch["source"]["label"].shape == (bs,)
  assert set(batch["target"]) == {"input", "index"}  # Target labels never reach the step.
  assert batch["target"]["index"].max() < len(data.target_train["input"])  # Rows of the set.
  assert batch["target"]["input"].shape == (bs, size, size, channels)

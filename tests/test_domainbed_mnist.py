"""RotatedMNIST and ColoredMNIST as DomainBed builds them: environments, rotation, colours."""

import numpy as np

from tests.test_digit_benchmarks import _write_idx
from tljax.data import pipeline
from tljax.data.builders import domainbed_mnist as dbm
from tljax.data.builders import mnist


def test_environments_partition_the_shuffled_set():
  images = np.arange(70)[:, None, None] * np.ones((1, 2, 2), np.int64)
  labels = np.arange(70)
  parts = [dbm.environment(images, labels, i, 6) for i in range(6)]
  seen = np.concatenate([p[1] for p in parts])
  assert sorted(seen) == list(range(70))  # Every image in exactly one environment.
  assert [len(p[1]) for p in parts] == [12, 12, 12, 12, 11, 11]
  for x, y in parts:  # Images stay with their labels.
    np.testing.assert_array_equal(x[:, 0, 0], y)


def test_rotation_turns_counter_clockwise_and_fills_with_zero():
  x = np.random.default_rng(0).integers(1, 256, (3, 28, 28), dtype=np.uint8)
  np.testing.assert_array_equal(dbm.rotate(x, 90), np.rot90(x, 1, axes=(1, 2)))
  np.testing.assert_array_equal(dbm.rotate(x, 0), x)
  turned = dbm.rotate(x, 45)
  assert turned.dtype == np.uint8 and (turned[:, 0, 0] == 0).all()  # Corners: zero fill.


def test_colour_and_label_noise_have_domainbeds_rates():
  """Labels: digit < 5, flipped 25% of the time; colour = label flipped with probability e;
  the digit sits in the colour's channel alone (0 red, 1 green), blue stays empty."""
  n = 40000
  rng = np.random.default_rng(1)
  images = rng.integers(1, 256, (n, 2, 2), dtype=np.uint8)
  digits = rng.integers(0, 10, n)
  for flip in (0.1, 0.9):
    coloured, labels = dbm.colour(images, digits, flip, np.random.default_rng(2))
    assert abs(np.mean(labels != (digits < 5)) - 0.25) < 0.01
    colours = (coloured[..., 1] > 0).all(axis=(1, 2)).astype(int)
    assert abs(np.mean(colours != labels) - flip) < 0.01
    np.testing.assert_array_equal(coloured[np.arange(n), :, :, colours], images)
    np.testing.assert_array_equal(coloured[np.arange(n), :, :, 1 - colours], 0)
    assert not coloured[..., 2].any()


def test_builders_from_idx_files_give_80_20_splits_of_their_environment(tmp_path):
  rng = np.random.default_rng(0)
  arrays = {}
  for split, n in (("train", 36), ("test", 24)):
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    for stem, array in zip(mnist.FILES[split], (images, labels)):
      _write_idx(tmp_path / stem, array, gz=False)
    arrays[split] = images, labels
  every = [np.concatenate([arrays[s][i] for s in ("train", "test")]) for i in (0, 1)]
  data_dir = str(tmp_path / "tfds")
  # Environment "15" is the second of six: 10 of the 60 images, rotated by 15 degrees.
  want_images, want_labels = dbm.environment(*every, 1, 6)
  want_images = dbm.rotate(want_images, 15)
  train = pipeline.load_split("rotated_mnist/15", "train", data_dir=data_dir, manual_dir=tmp_path)
  test = pipeline.load_split("rotated_mnist/15", "test", data_dir=data_dir, manual_dir=tmp_path)
  assert (len(train["label"]), len(test["label"])) == (8, 2)
  got = np.concatenate([train["input"], test["input"]])[..., 0]
  order = lambda x: np.lexsort(x.reshape(len(x), -1).T)  # noqa: E731
  np.testing.assert_array_equal(got[order(got)], want_images[order(want_images)])
  coloured = pipeline.load_split("colored_mnist/minus90", "train", data_dir=data_dir,
                                 manual_dir=tmp_path)  # fmt: skip
  assert coloured["input"].shape == (16, 28, 28, 3) and set(coloured["label"]) <= {0, 1}
  assert not coloured["input"][..., 2].any()

"""Splits kept as arrays after their first TFDS read: equal to it, and dropped when stale."""

import os
import shutil

import numpy as np
import pytest

from tljax.data import array_cache, pipeline


@pytest.fixture
def prepared(data_dir, tmp_path):
  """A copy of the embedded datasets' TFDS dir, without arrays kept by other tests."""
  copy = tmp_path / "tfds"
  shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns(array_cache.FOLDER))
  return str(copy)


@pytest.fixture
def tfds_reads(monkeypatch):
  """The splits read through TFDS from now on (name, split)."""
  reads, original = [], pipeline._read_split  # pylint: disable=protected-access

  def counted(name, split, *args):
    reads.append((name, split))
    return original(name, split, *args)

  monkeypatch.setattr(pipeline, "_read_split", counted)
  return reads


def test_a_second_read_equals_the_first_without_tfds(prepared, tfds_reads):
  first = pipeline.load_split("digits", "test", data_dir=prepared)
  assert tfds_reads == [("digits", "test")]
  assert os.path.isfile(array_cache.path(prepared, "digits", "test", (0, 1)))
  second = pipeline.load_split("digits", "test", data_dir=prepared)
  assert tfds_reads == [("digits", "test")]  # Not read through TFDS again.
  assert first.keys() == second.keys()
  for key in first:
    assert first[key].dtype == second[key].dtype
    np.testing.assert_array_equal(first[key], second[key])
  # Another shard of the split is another file: read through TFDS once, then kept.
  half = pipeline.load_split("digits", "test", data_dir=prepared, shard=(1, 2))
  assert tfds_reads[-1] == ("digits", "test") and len(tfds_reads) == 2
  np.testing.assert_array_equal(half["label"], first["label"][len(first["label"]) // 2 :])


def test_class_names_are_kept_with_the_arrays(prepared, tiny_config, tfds_reads):
  tiny_config.data.data_dir = prepared
  _, names = pipeline.load("digits", "test", tiny_config.data)
  _, kept_names = pipeline.load("digits", "test", tiny_config.data)
  assert len(tfds_reads) == 1 and kept_names == names == [str(i) for i in range(10)]


def test_a_changed_prepared_file_is_read_through_tfds_again(prepared, tfds_reads):
  pipeline.load_split("digits", "test", data_dir=prepared)
  record = next(
    os.path.join(root, n)
    for root, _, names in os.walk(os.path.join(prepared, "digits"))
    for n in names
    if ".tfrecord" in n and "test" in n
  )
  status = os.stat(record)
  os.utime(record, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))  # Rewritten.
  pipeline.load_split("digits", "test", data_dir=prepared)
  assert len(tfds_reads) == 2
  pipeline.load_split("digits", "test", data_dir=prepared)  # Kept again, with the new print.
  assert len(tfds_reads) == 2


def test_a_damaged_kept_file_is_ignored(prepared, tfds_reads):
  first = pipeline.load_split("digits", "test", data_dir=prepared)
  kept = array_cache.path(prepared, "digits", "test", (0, 1))
  with open(kept, "r+b") as f:
    f.truncate(os.path.getsize(kept) // 2)
  again = pipeline.load_split("digits", "test", data_dir=prepared)
  assert len(tfds_reads) == 2
  np.testing.assert_array_equal(first["input"], again["input"])


def test_text_remote_data_dirs_and_the_switched_off_are_not_kept(tmp_path, monkeypatch):
  prepared = tmp_path / "set" / "1.0.0"
  prepared.mkdir(parents=True)
  (prepared / "data.tfrecord").write_bytes(b"x")
  words = {"input": np.array([b"a", b"bc"], dtype=object), "label": np.array([0, 1])}
  array_cache.write(str(tmp_path), "set", "train", (0, 1), words, str(prepared), names=["a"])
  assert not os.path.exists(array_cache.path(str(tmp_path), "set", "train", (0, 1)))
  assert array_cache.read("gs://bucket/tfds", "set", "train", (0, 1)) is None
  numbers = {"input": np.zeros((2, 3), np.uint8), "label": np.array([0, 1])}
  array_cache.write(str(tmp_path), "set", "train[:50%]", (0, 1), numbers, str(prepared), names=[])
  arrays, meta = array_cache.read(str(tmp_path), "set", "train[:50%]", (0, 1))
  np.testing.assert_array_equal(arrays["input"], numbers["input"])
  assert meta["names"] == [] and meta["prepared"] == os.path.join("set", "1.0.0")
  monkeypatch.setenv("TLJAX_KEEP_ARRAYS", "0")
  assert array_cache.read(str(tmp_path), "set", "train[:50%]", (0, 1)) is None

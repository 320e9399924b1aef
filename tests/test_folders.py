"""Image folders, benchmark layouts, class alignment and streamed batches."""

import logging
import os

import numpy as np
from PIL import Image
import pytest

from configs import digits
from tljax.data import benchmarks, classes, folders, images, pipeline
from tljax.data import streams as streams_lib
from tljax.errors import ConfigError, DataError


def _save(path, image: Image.Image) -> None:
  os.makedirs(os.path.dirname(path), exist_ok=True)
  image.save(path)


def _mixed_tree(root) -> None:
  """Two classes of grey, RGBA, palette and JPEG images of mixed sizes, and a broken file."""
  rng = np.random.default_rng(0)
  for c in ("cat", "dog"):
    _save(f"{root}/{c}/grey.png", Image.fromarray(rng.integers(0, 255, (40, 30), np.uint8), "L"))
    rgba = np.zeros((20, 20, 4), np.uint8)  # Fully transparent: must come out white.
    _save(f"{root}/{c}/clear.png", Image.fromarray(rgba, "RGBA"))
    _save(
      f"{root}/{c}/palette.png",
      Image.fromarray(rng.integers(0, 255, (16, 50, 3), np.uint8)).convert("P"),
    )
    _save(f"{root}/{c}/photo.jpg", Image.fromarray(rng.integers(0, 255, (64, 48, 3), np.uint8)))
    _save(f"{root}/{c}/nested/deep.bmp", Image.fromarray(rng.integers(0, 255, (9, 9, 3), np.uint8)))
  with open(f"{root}/dog/broken.jpg", "wb") as f:
    f.write(b"not an image")
  with open(f"{root}/dog/notes.txt", "w") as f:
    f.write("ignored: not an image suffix")


def test_mixed_modes_and_sizes_decode_to_one_shape_and_a_broken_file_is_named(tmp_path, caplog):
  _mixed_tree(tmp_path)
  with caplog.at_level(logging.WARNING, logger="tljax"):
    listing = folders.list_split(str(tmp_path), "all")
  assert listing.class_names == ("cat", "dog")
  assert len(listing.paths) == 10 and listing.skipped == (f"{tmp_path}/dog/broken.jpg",)
  assert "broken.jpg" in caplog.text and "skipped 1 of 11" in caplog.text
  rgb = np.asarray(images.FileImages(listing.paths, 24, 3))
  assert rgb.shape == (10, 24, 24, 3) and rgb.dtype == np.uint8
  clear = [i for i, p in enumerate(listing.paths) if p.endswith("clear.png")]
  assert (rgb[clear] == 255).all()  # Transparency over white.
  grey = [i for i, p in enumerate(listing.paths) if p.endswith("grey.png")]
  assert (rgb[grey][..., 0] == rgb[grey][..., 2]).all()  # Grey repeated to RGB.
  one = np.asarray(images.FileImages(listing.paths, 24, 1))
  assert one.shape == (10, 24, 24, 1)


def test_a_pool_splits_by_class_the_same_way_every_time(tmp_path):
  for c in range(3):
    for i in range(10):
      _save(f"{tmp_path}/{c}/{i}.png", Image.new("L", (4, 4), i))
  train, test = (folders.list_split(str(tmp_path), s, 0.2) for s in ("train", "test"))
  assert np.bincount(test.labels).tolist() == [2, 2, 2]
  assert np.bincount(train.labels).tolist() == [8, 8, 8]
  assert not set(train.paths) & set(test.paths)
  again = folders.list_split(str(tmp_path), "test", 0.2)
  np.testing.assert_array_equal(again.paths, test.paths)


def test_train_and_test_folders_are_used_as_given(tmp_path):
  _save(f"{tmp_path}/train/a/1.png", Image.new("L", (4, 4)))
  _save(f"{tmp_path}/train/b/1.png", Image.new("L", (4, 4)))
  _save(f"{tmp_path}/test/b/2.png", Image.new("L", (4, 4)))
  test = folders.list_split(str(tmp_path), "test")
  assert test.class_names == ("a", "b") and test.labels.tolist() == [1]


def test_missing_or_empty_folders_are_one_line_errors(tmp_path):
  with pytest.raises(DataError, match="does not exist; it must hold"):
    folders.list_split(str(tmp_path / "nowhere"), "train")
  os.makedirs(tmp_path / "empty" / "a")
  with pytest.raises(DataError, match="no readable"):
    folders.list_split(str(tmp_path / "empty"), "train")
  with pytest.raises(ConfigError, match="not in TFDS's catalog"):
    pipeline.check_dataset_name("source", "no_such_dataset_anywhere")
  with pytest.raises(ConfigError, match="office31/amazon"):
    pipeline.check_dataset_name("target", "office31/amazn")


CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
STL10 = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]


def test_classes_are_matched_by_name_renamed_and_cut_to_the_common_set():
  with pytest.raises(ConfigError, match=r"only the source has \['automobile', 'frog'\]"):
    classes.align(CIFAR10, STL10)
  to_source, to_target, names = classes.align(
    CIFAR10, STL10, renames="automobile:car", mode="common"
  )
  assert len(names) == 9 and "frog" not in names and "monkey" not in names
  for i, c in enumerate(CIFAR10):  # Every kept class keeps its name on both sides.
    if to_source[i] >= 0:
      assert names[to_source[i]] == {"automobile": "car"}.get(c, c)
  assert to_source[CIFAR10.index("frog")] == -1 and to_target[STL10.index("monkey")] == -1
  assert names[to_target[STL10.index("car")]] == "car"
  relabelled = classes.relabel({"input": np.arange(10), "label": np.arange(10)}, to_target)
  assert relabelled["input"].tolist() == [i for i in range(10) if STL10[i] != "monkey"]
  with pytest.raises(ConfigError, match="is not OLD:NEW"):
    classes.parse_renames("automobile")


def test_merged_classes_give_a_coarser_task_on_both_domains():
  digits = [str(d) for d in range(10)]
  to_source, to_target, names = classes.align(
    digits, digits[::-1], merges="even=0,2,4,6,8;odd=1,3,5,7,9"
  )
  assert names == ["even", "odd"]
  assert to_source.tolist() == [d % 2 for d in range(10)]
  assert to_target.tolist() == [(9 - d) % 2 for d in range(10)]  # The target's own order.
  with pytest.raises(ConfigError, match="class '12' is in neither domain"):
    classes.align(digits, digits, merges="small=0,12")
  with pytest.raises(ConfigError, match="puts class '1' in two groups"):
    classes.align(digits, digits, merges="a=0,1;b=1,2")
  with pytest.raises(ConfigError, match="is not GROUP=CLASS"):
    classes.align(digits, digits, merges="even:0,2")


def test_the_folder_path_reads_the_same_pixels_as_the_tfds_builder(data_dir, digit_folders):
  config = digits.get_config()
  config.data.data_dir = data_dir
  for name in ("digits", "digits_m"):
    tfds_arrays, tfds_names = pipeline.load(name, "test", config.data)
    folder_arrays, folder_names = pipeline.load(
      f"folder:{digit_folders[name]}", "test", config.data
    )
    assert isinstance(folder_arrays["input"], np.ndarray)  # Small: decoded into memory.
    assert tfds_names == folder_names
    key = lambda a: sorted(  # noqa: E731  Order differs: compare as multisets.
      (x.tobytes(), int(y)) for x, y in zip(a["input"], a["label"])
    )
    assert key(tfds_arrays) == key(folder_arrays)


def test_streamed_batches_are_a_pure_function_of_the_step(digit_folders, data_dir):
  config = digits.get_config()
  config.data.data_dir, config.data.load, config.data.random_crop = data_dir, "stream", True
  arrays, _ = pipeline.load(f"folder:{digit_folders['digits_m']}", "train", config.data)
  assert isinstance(arrays["input"], images.FileImages)
  first = streams_lib.Stream(arrays, 16, seed=3)
  wanted = [first.batch(s) for s in range(6)]
  resumed = streams_lib.batches({"s": streams_lib.Stream(arrays, 16, seed=3)}, start_step=4)
  for step in (4, 5):
    got = next(resumed)["s"]
    np.testing.assert_array_equal(got["input"], wanted[step]["input"])
    np.testing.assert_array_equal(got["label"], wanted[step]["label"])
  assert wanted[0]["input"].shape == (16, 28, 28, 3) and wanted[0]["input"].any()
  crops = [
    images.FileImages(arrays["input"].paths[:8], 28, 3, True).read(np.random.default_rng(s))
    for s in (0, 0, 1)
  ]
  np.testing.assert_array_equal(crops[0], crops[1])
  assert not np.array_equal(crops[0], crops[2])  # Another draw, other crops.


def test_benchmark_layouts_list_their_domains(tmp_path):
  for d in ("amazon", "webcam"):
    for c in benchmarks.OFFICE31_CLASSES[:2]:
      _save(f"{tmp_path}/office31/{d}/images/{c}/frame_0001.jpg", Image.new("RGB", (30, 20)))
  amazon = benchmarks.list_split("office31/amazon", "train", str(tmp_path / "office31"))
  assert amazon.class_names == tuple(benchmarks.OFFICE31_CLASSES[:2]) and len(amazon.paths) == 2
  test = benchmarks.list_split("office31/amazon", "test", str(tmp_path / "office31"))
  np.testing.assert_array_equal(test.paths, amazon.paths)  # The papers' protocol: all images.
  _save(f"{tmp_path}/home/Real World/Mug/1.jpg", Image.new("RGB", (8, 8)))
  assert (
    len(benchmarks.list_split("office_home/Real_World", "train", str(tmp_path / "home")).paths) == 1
  )
  _save(f"{tmp_path}/visda/validation/car/1.jpg", Image.new("RGB", (8, 8)))
  assert benchmarks.list_split("visda2017/real", "test", str(tmp_path / "visda")).class_names == (
    "car",
  )
  dn = tmp_path / "dn"
  for split, files in (("train", ["a/1.jpg", "b/2.jpg"]), ("test", ["b/3.jpg"])):
    for f in files:
      _save(f"{dn}/clipart/{f}", Image.new("RGB", (8, 8)))
    with open(f"{dn}/clipart_{split}.txt", "w") as out:
      out.writelines(f"clipart/{f} {ord(f[0]) - 97}\n" for f in files)
  assert not benchmarks.uses_tfds("domainnet/clipart", str(dn))
  test = benchmarks.list_split("domainnet/clipart", "test", str(dn))
  assert test.class_names == ("a", "b") and test.labels.tolist() == [1]
  with pytest.raises(DataError, match="needs the extracted Office-31"):
    benchmarks.list_split("office31/dslr", "train", str(tmp_path / "office31"))


def test_cifar10_to_stl10_trains_on_their_nine_shared_classes(tmp_path, monkeypatch):
  """Any TFDS image dataset by name; the label sets are matched by class name.

  TFDS reads CIFAR-10's and STL-10's class names from the downloaded archives,
  which mock data lacks: the test gives the real names.
  """
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  from tljax.data import splits  # pylint: disable=g-import-not-at-top
  from tljax.run import loop  # pylint: disable=g-import-not-at-top

  names = {"cifar10": CIFAR10, "stl10": STL10}
  monkeypatch.setattr(pipeline, "_label_names", lambda builder: names[builder.name])

  config = digits.get_config("tiny")
  config.data.source, config.data.target = "cifar10", "stl10"
  config.data.image_size, config.data.data_dir = 32, str(tmp_path / "tfds")
  config.train.num_steps = 4
  with tfds.testing.mock_data(num_examples=40, data_dir=str(tmp_path / "tfds")):
    with pytest.raises(ConfigError, match=r"only the source has \['automobile', 'frog'\]"):
      loop.train_and_evaluate(config, str(tmp_path / "refused"))
    config.data.rename_classes, config.data.classes = "automobile:car", "common"
    data = splits.load_domains(config.data)
    assert data.target_train["input"].shape[1:] == (32, 32, 3)  # STL-10's 96 px resized.
    assert max(a["label"].max() for a in data.splits().values() if a) <= 8
    results = loop.train_and_evaluate(config, str(tmp_path / "run"), data=data)
    raw = {n: pipeline.load_split(n, "test", data_dir=str(tmp_path / "tfds")) for n in names}
  dropped = {"cifar10": "frog", "stl10": "monkey"}  # automobile is car, renamed.
  for name, split in (("cifar10", "source_test"), ("stl10", "target_test")):
    kept = sum(names[name][y] != dropped[name] for y in raw[name]["label"])
    assert results["final"][split]["num_examples"] == kept  # Exactly the shared classes' images.
    assert np.array(results["final"][split]["confusion"]).shape == (9, 9)


def test_office31_config_trains_on_a_miniature_tree_of_the_real_layout(tmp_path):
  from configs import office31  # pylint: disable=g-import-not-at-top
  from tljax.run import loop  # pylint: disable=g-import-not-at-top

  rng = np.random.default_rng(0)
  for domain in ("amazon", "webcam"):
    for c in benchmarks.OFFICE31_CLASSES[:3]:
      for i in range(3):
        size = tuple(int(v) for v in rng.integers(60, 120, 2))
        pixels = rng.integers(0, 256, size + (3,), np.uint8)
        _save(f"{tmp_path}/office31/{domain}/images/{c}/frame_{i:04d}.jpg", Image.fromarray(pixels))
  config = office31.get_config("tiny")
  config.data.manual_dir = str(tmp_path / "office31")
  config.data.image_size = 32  # Still decoded, cropped and resized from 60-120 px files.
  results = loop.train_and_evaluate(config, str(tmp_path / "run"))
  for split in ("source_test", "target_test"):  # Each domain's 3 images of each of 3 classes.
    confusion = np.array(results["final"][split]["confusion"])
    np.testing.assert_array_equal(confusion.sum(axis=1), [3, 3, 3])

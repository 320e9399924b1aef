"""synth_digits: printed digits from matplotlib's fonts, deterministic, balanced, legible."""

import numpy as np

from tljax.data import pipeline
from tljax.data.builders import synth_digits


def test_generation_is_seeded_balanced_and_every_image_shows_a_digit():
  images, labels = synth_digits.generate(60, seed=3)
  again, same = synth_digits.generate(60, seed=3)
  np.testing.assert_array_equal(images, again)
  np.testing.assert_array_equal(labels, same)
  assert images.shape == (60, 28, 28, 3) and images.dtype == np.uint8
  assert np.bincount(labels, minlength=10).tolist() == [6] * 10
  assert not np.array_equal(synth_digits.generate(60, seed=4)[0], images)
  # Text and background differ by MIN_CONTRAST grey levels: no image is nearly flat.
  assert min(float(x.astype(np.float32).mean(-1).std()) for x in images) > 10


def test_every_font_draws_every_digit_and_they_differ():
  rng = np.random.default_rng(0)
  fonts = synth_digits.font_files()
  assert len(fonts) >= 10 and all("Display" not in f for f in fonts)
  for font in fonts:
    drawn = [synth_digits.render(d, font, rng).astype(np.float32).mean(-1) for d in range(10)]
    assert min(d.std() for d in drawn) > 10, font


def test_the_builder_prepares_both_splits(tmp_path, monkeypatch):
  monkeypatch.setattr(synth_digits, "SPLITS", {"train": (30, 0), "test": (20, 1)})
  train = pipeline.load_split("synth_digits", "train", data_dir=str(tmp_path))
  test = pipeline.load_split("synth_digits", "test", data_dir=str(tmp_path))
  assert train["input"].shape == (30, 28, 28, 3) and len(test["label"]) == 20
  want = synth_digits.generate(30, 0)[0]
  order = lambda x: np.lexsort(x.reshape(len(x), -1).T)  # noqa: E731  (TFDS stores shuffled)
  np.testing.assert_array_equal(train["input"][order(train["input"])], want[order(want)])
  assert pipeline.class_names("synth_digits", str(tmp_path)) == [str(i) for i in range(10)]

"""Text: the sentiment builder, the vectorizer, text models and methods on text."""

import dataclasses
import io
import os
import subprocess
import sys
import tarfile

import jax
import numpy as np
import pytest

from configs import sentiment as sentiment_config
from tests import helpers
from tljax import core, methods
from tljax.analysis import baselines
from tljax.data import pipeline, splits, text
from tljax.data.builders import sentiment
from tljax.errors import ConfigError, DataError
from tljax.run import build, validate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (rating, sentence) per genre; |rating| < 0.5 must be dropped.
ROWS = {
  "tweets": [(2.5, "love this day!"), (-1.2, "awful traffic again"), (0.3, "just lunch"),
             (1.0, "so happy for you"), (-2.0, "worst phone ever"), (-0.4, "meh"),
             (0.6, "not bad at all"), (-0.8, "tired and sad")],
  "movies": [(3.0, "a brilliant film"), (-3.1, "a boring dull film"), (0.1, "the film runs long"),
             (2.2, "great acting"), (-1.5, "terrible plot twist"), (1.9, "moving and funny"),
             (-0.7, "the ending drags"), (0.5, "zzzonlytest worth a look")],
}  # fmt: skip


def write_archive(directory, nested: bool = False) -> str:
  """hutto_ICWSM_2014.tar.gz with two genres (or the PyPI package holding it)."""

  def add(archive, name, data: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))

  inner = io.BytesIO()
  with tarfile.open(fileobj=inner, mode="w:gz") as archive:
    for genre, rows in ROWS.items():
      lines = [f"{i + 1}\t{r}\t{s}" for i, (r, s) in enumerate(rows)]
      add(archive, f"hutto_ICWSM_2014/{sentiment.GENRES[genre]}", "\r\n".join(lines).encode())
  path = os.path.join(directory, sentiment.PACKAGE if nested else sentiment.ARCHIVE)
  with open(path, "wb") as f:
    if not nested:
      f.write(inner.getvalue())
      return path
  with tarfile.open(path, "w:gz") as package:
    add(package, f"vaderSentiment-3.3.2/additional_resources/{sentiment.ARCHIVE}", inner.getvalue())
  return path


def test_threshold_drops_near_zero_and_labels_by_sign():
  rows = sentiment.labelled(sentiment.parse_ground_truth("1\t0.49\ta\n2\t-0.5\tb\n3\t0.5\tc\n"))
  assert [(i, label) for i, _, _, label in rows] == [("2", 0), ("3", 1)]


@pytest.mark.parametrize("nested", [False, True])
def test_builder_splits_counts_and_keeps_raw_text(tmp_path, nested):
  manual = tmp_path / "manual"
  manual.mkdir()
  write_archive(manual, nested)
  kept = [(r, s) for r, s in ROWS["movies"] if abs(r) >= sentiment.THRESHOLD]
  got = {
    split: pipeline.load_split(
      "sentiment/movies", split, data_dir=str(tmp_path / "tfds"), manual_dir=str(manual)
    )
    for split in ("train", "test")
  }
  assert len(got["test"]["label"]) == round(sentiment.TEST_FRACTION * len(kept))
  assert len(got["train"]["label"]) + len(got["test"]["label"]) == len(kept)
  by_text = {s: int(r > 0) for r, s in kept}
  for arrays in got.values():
    for sentence, label in zip(arrays["input"], arrays["label"]):
      assert by_text[sentence.decode()] == label  # Raw text, label = sign of the rating.
  assert "the film runs long" not in by_text  # Rated 0.1: dropped.


def test_missing_archive_offline_is_one_line_naming_the_manual_dir(tmp_path, monkeypatch):
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  def offline(self, url):
    raise OSError(f"no network for {url}")  # At once: TFDS would retry a real URL for minutes.

  monkeypatch.setattr(tfds.download.DownloadManager, "download", offline)
  with pytest.raises(DataError, match="config.data.manual_dir") as error:
    pipeline.load_split("sentiment/tweets", "train", data_dir=str(tmp_path), manual_dir=None)
  assert "\n" not in str(error.value)


def test_vocabulary_top_k_by_document_frequency_and_deterministic():
  config = text.defaults()
  config.vocab_size, config.ngrams = 3, 2
  sentences = [b"good good film", b"good plot", b"bad film", b"film noir"]
  vectorize = text.fit(sentences, config)
  # Document frequency: film 3, good 2, then ties at 1 broken alphabetically.
  assert list(vectorize.vocabulary) == ["film", "good", "bad"]
  bags = vectorize(sentences)
  np.testing.assert_array_equal(bags[0], [1, 1, 0])  # Binary presence, not counts.
  np.testing.assert_array_equal(bags, text.fit(sentences, config)(sentences))


def test_tfidf_rows_are_unit_and_tokens_pad_and_mark_unknown():
  config = text.defaults()
  config.weighting = "tfidf"
  bags = text.fit([b"a b", b"a c"], config)([b"a b c", b"zzz"])
  np.testing.assert_allclose(np.linalg.norm(bags[0]), 1.0, rtol=1e-6)
  assert not bags[1].any()
  config.representation, config.max_len = "tokens", 4
  tokens = text.fit([b"a a b"], config)
  np.testing.assert_array_equal(tokens([b"b a zzz"]), [[3, 2, text.UNKNOWN, text.PAD]])


def test_no_test_text_and_no_labels_reach_the_vocabulary(tmp_path, monkeypatch):
  manual = tmp_path / "manual"
  manual.mkdir()
  write_archive(manual)
  config = sentiment_config.get_config("tiny")
  config.data.update(data_dir=str(tmp_path / "tfds"), manual_dir=str(manual))
  fitted = []
  real_fit = text.fit
  monkeypatch.setattr(
    text, "fit", lambda s, c: fitted.append((list(s), real_fit(s, c))) or fitted[-1][1]
  )
  data = splits.load_domains(config.data)
  load = lambda name, split: pipeline.load_split(name, split, data_dir=config.data.data_dir)  # noqa: E731
  genres = ("sentiment/movies", "sentiment/tweets")
  train = [s for name in genres for s in load(name, "train")["input"]]
  test = [s for name in genres for s in load(name, "test")["input"]]
  sentences, vectorizer = fitted[0]
  assert sorted(sentences) == sorted(train)  # Both domains' training text only, never labels.
  train_words = {w for s in train for w in text.tokenize(s)}
  test_only = {w for s in test for w in text.tokenize(s)} - train_words
  assert test_only and not test_only & set(vectorizer.vocabulary)
  for arrays in (data.source_train, data.source_test, data.target_train, data.target_test):
    assert arrays["input"].shape[1:] == (config.data.text.vocab_size,)
    assert arrays["input"].dtype == np.float32
  again = splits.load_domains(config.data)  # The pipeline is deterministic: same arrays.
  for name, arrays in data.splits().items():
    if arrays is not None:
      for key in arrays:
        np.testing.assert_array_equal(arrays[key], getattr(again, name)[key], err_msg=name)


def test_text_configs_validate_and_mismatches_are_one_line_errors():
  config = sentiment_config.get_config()
  validate.validate_config(config)
  validate.validate_config(sentiment_config.get_config("conv"))
  config.data.target = "digits_m"
  with pytest.raises(ConfigError, match="is images: every domain must hold the same kind"):
    validate.validate_config(config)
  config = sentiment_config.get_config()
  config.data.colour_jitter = True
  with pytest.raises(ConfigError, match="colour_jitter=True changes image colours.*is text"):
    validate.validate_config(config)
  config = sentiment_config.get_config()
  config.model.name = "digits_net"
  with pytest.raises(
    ConfigError, match=r"reads images, not text; use one of \['text_bag', 'text_conv'\]"
  ):
    validate.validate_config(config)
  config = sentiment_config.get_config()
  config.data.text.representation = "tokens"
  with pytest.raises(ConfigError, match="reads text.representation='bag'"):
    validate.validate_config(config)
  config = sentiment_config.get_config("conv")
  config.data.text.vocab_size = 100
  with pytest.raises(ConfigError, match=r"config.model.vocab_size=5002 must be"):
    validate.validate_config(config)


@pytest.mark.parametrize(
  "model, names",
  [
    ("text_bag", [n for n in helpers.INTERFACE_METHODS if not methods.find(n).needs_batch_norm]),
    ("text_conv", ["dann", "self_training", "mcd"]),
  ],
)
def test_every_method_takes_a_step_on_text(model, names, tmp_path):
  """The methods never see what the input is: the same files run on text (bags: one method per
  way of touching the inputs, as on audio, but the BatchNorm adapters, which the text networks
  refuse by name: see the next test)."""
  rng = np.random.default_rng(0)
  for name in names:
    config = sentiment_config.get_config("tiny,conv" if model == "text_conv" else "tiny")
    vocab = config.data.text.vocab_size
    config.method.name = name
    shape = (vocab,) if model == "text_bag" else (10,)
    helpers.provide_teacher(config, shape, 2, tmp_path / name)
    batch = {}
    for stream in core.LABELLED:  # Every stream: the training sets of `Method.prepare`.
      inputs = (
        (rng.random((8, vocab)) < 0.1).astype(np.float32)
        if model == "text_bag"
        else rng.integers(0, vocab, (8, 10)).astype(np.int32)
      )
      batch[stream] = {"input": inputs}
      if stream != "target":
        batch[stream]["label"] = rng.integers(0, 2, 8)
    built = build.build(config, shape, 2, batch)
    batch = {stream: batch[stream] for stream in built.method.streams}
    state, metrics = built.train_step(built.state, batch, jax.random.key(0))
    assert all(np.isfinite(np.asarray(v)).all() for v in metrics.values()), (name, metrics)


@pytest.mark.parametrize("name", [n for n in methods.names() if methods.find(n).needs_batch_norm])
def test_batch_norm_adapters_refuse_the_text_networks_by_name(name, tmp_path):
  config = sentiment_config.get_config("tiny")
  config.method.name = name
  vocab = config.data.text.vocab_size
  helpers.provide_teacher(config, (vocab,), 2, tmp_path)
  batch = {"target": {"input": np.zeros((8, vocab), np.float32)}}
  with pytest.raises(ConfigError, match="adapts BatchNorm layers, and the network has none"):
    build.build(config, (vocab,), 2, batch)


def test_dann_on_text_sharded_8_devices_matches_one_device(tmp_path):
  env = helpers.worker_env(8)
  for model in ("text_bag",):  # text_conv: under jit in test_every_method_takes_a_step_on_text.
    cmd = [sys.executable, "-m", "tests.parallel_worker", "--out", str(tmp_path),
           "--modes", "single,sharded", "--methods", "dann,self_training", "--model", model,
           "--tag", model]  # fmt: skip
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("dann", "self_training"):
      single = np.load(tmp_path / f"{name}_single_1x8{model}.npz")
      sharded = np.load(tmp_path / f"{name}_sharded_1x8{model}.npz")
      bad, still = helpers.update_mismatches(single, sharded)
      assert not bad and not still, (name, bad, still)


def test_logistic_regression_baseline_reads_the_runs_own_input(tmp_path):
  """experiments.logreg_baseline's scores: sklearn on the same vectorized splits as a run."""
  manual = tmp_path / "manual"
  manual.mkdir()
  write_archive(manual)
  config = sentiment_config.get_config("tiny")
  config.data.update(data_dir=str(tmp_path / "tfds"), manual_dir=str(manual))
  data = splits.load_domains(config.data)
  row = baselines.source_trained_logreg(data)
  # Trained on source labels only: target train labels (and source test) cannot move it.
  leaked = dataclasses.replace(
    data, target_train={**data.target_train, "label": 1 - data.target_train["label"]}
  )
  assert baselines.source_trained_logreg(leaked) == row
  # Scored on each test split's own labels: flipping target test's flips its accuracy.
  flipped = dataclasses.replace(
    data, target_test={**data.target_test, "label": 1 - data.target_test["label"]}
  )
  flipped_row = baselines.source_trained_logreg(flipped)
  assert flipped_row["target_test_accuracy"] == pytest.approx(1 - row["target_test_accuracy"])
  assert flipped_row["source_test_accuracy"] == row["source_test_accuracy"]
  # The same domain on both sides scores alike (it reads the target split, not the source's).
  same = baselines.source_trained_logreg(dataclasses.replace(data, target_test=data.source_test))
  assert same["target_test_accuracy"] == row["source_test_accuracy"]

"""Several source domains: names, pooled splits with a domain index, per-domain batches."""

import numpy as np
import pytest

from tests.test_digit_benchmarks import _write_idx
from tljax.data import domains, splits
from tljax.data import streams as streams_lib
from tljax.data.builders import mnist
from tljax.errors import ConfigError
from tljax.run import loop, validate

SOURCES = "rotated_mnist/0,rotated_mnist/15"
TARGET = "rotated_mnist/30"


@pytest.mark.parametrize(
  "source, target, message",
  [
    ("mnist,,digits", "digits_m", "has an empty name"),
    ("mnist,digits,mnist", "digits_m", r"lists \['mnist'\] twice"),
    ("mnist,digits_m", "digits_m", "is also in config.data.source"),
  ],
)
def test_bad_domain_lists_are_one_line_errors(tiny_config, source, target, message):
  tiny_config.data.source, tiny_config.data.target = source, target
  with pytest.raises(ConfigError, match=message):
    validate.validate_config(tiny_config)


def test_a_batch_that_does_not_split_over_the_domains_is_refused(tiny_config):
  tiny_config.data.source, tiny_config.data.target = "mnist,digits,digits_m", "usps"
  tiny_config.data.batch_size = 16
  with pytest.raises(ConfigError, match="batch_size=16 .* does not divide into the 3 source"):
    validate.validate_config(tiny_config)
  domains.check_batch(18, 3)  # 6 of each domain per step.
  assert domains.names(" a, b ") == ["a", "b"]


def _pooled(sizes, seed=0):
  rng = np.random.default_rng(seed)
  parts = [
    {"input": rng.normal(size=(n, 2)).astype(np.float32), "label": rng.integers(0, 3, n)}
    for n in sizes
  ]
  return parts, domains.pooled(parts)


def test_pooled_numbers_each_domains_rows_in_order():
  parts, pooled = _pooled([5, 3, 4])
  np.testing.assert_array_equal(pooled["domain"], [0] * 5 + [1] * 3 + [2] * 4)
  np.testing.assert_array_equal(pooled["input"], np.concatenate([p["input"] for p in parts]))
  assert domains.count(pooled) == 3 and domains.count(parts[0]) == 1


def test_each_batch_has_an_equal_share_of_every_domain_and_each_domain_cycles_its_examples():
  parts, pooled = _pooled([7, 12, 5])
  pooled["row"] = np.arange(24)
  stream = streams_lib.DomainStream(pooled, batch_size=6, seed=3)
  seen = {d: [] for d in range(3)}
  for step in range(35):  # 70 examples of each domain: 10 epochs of domain 0, 14 of domain 2.
    batch = stream.batch(step)
    np.testing.assert_array_equal(batch["domain"], [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(batch["domain"], pooled["domain"][batch["row"]])
    np.testing.assert_array_equal(batch["input"], pooled["input"][batch["row"]])
    for d in range(3):
      seen[d].extend(batch["row"][batch["domain"] == d])
  for d, n in enumerate([7, 12, 5]):
    rows = np.flatnonzero(pooled["domain"] == d)
    epochs = np.asarray(seen[d][: (70 // n) * n]).reshape(-1, n)
    for epoch in epochs:  # Every example of the domain once per epoch, in a fresh order.
      np.testing.assert_array_equal(np.sort(epoch), rows)
    assert len({tuple(e) for e in epochs}) > 1
  again = streams_lib.DomainStream(pooled, batch_size=6, seed=3)
  for step in (0, 17, 34):  # A pure function of (seed, step): what exact resume needs.
    np.testing.assert_array_equal(again.batch(step)["row"], stream.batch(step)["row"])
  other = streams_lib.DomainStream(pooled, batch_size=6, seed=4).batch(0)["row"]
  assert not np.array_equal(other, stream.batch(0)["row"])
  resumed = next(streams_lib.batches({"source": again}, start_step=17))["source"]["row"]
  np.testing.assert_array_equal(resumed, stream.batch(17)["row"])


@pytest.fixture(scope="module")
def mnist_files(tmp_path_factory):
  """Tiny MNIST IDX files (60 train, 40 test images), which DomainBed's environments split."""
  path = tmp_path_factory.mktemp("idx")
  rng = np.random.default_rng(0)
  for split, n in (("train", 60), ("test", 40)):
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = np.arange(n) % 10
    for stem, array in zip(mnist.FILES[split], (images, labels)):
      _write_idx(path / stem, array, gz=False)
  return path


def _multi_source_config(tiny_config, mnist_files, tmp_path):
  tiny_config.data.source, tiny_config.data.target = SOURCES, TARGET
  tiny_config.data.manual_dir = str(mnist_files)
  tiny_config.data.data_dir = str(tmp_path / "tfds")
  tiny_config.data.channels = 1
  tiny_config.data.batch_size = 8
  tiny_config.data.source_val_size = 4
  tiny_config.data.target_val_size = 0
  return tiny_config


def test_two_sources_pool_with_their_domain_and_hold_out_a_share_of_each(
  tiny_config, mnist_files, tmp_path
):
  config = _multi_source_config(tiny_config, mnist_files, tmp_path)
  loaded = splits.load_domains(config.data)
  alone = [splits.load_domains(_one_source(config, name).data) for name in domains.names(SOURCES)]
  # Each environment: 100 images / 6 environments -> 17 or 16, 80% train (held-out 2 each).
  for d, one in enumerate(alone):
    mine = loaded.source_train["domain"] == d
    np.testing.assert_array_equal(loaded.source_train["input"][mine], one.source_train["input"])
    np.testing.assert_array_equal(loaded.source_val["input"][loaded.source_val["domain"] == d],
                                  one.source_val["input"])  # fmt: skip
    np.testing.assert_array_equal(
      loaded.source_test["label"][loaded.source_test["domain"] == d], one.source_test["label"]
    )
  assert len(loaded.source_val["label"]) == 4 and set(loaded.source_val["domain"]) == {0, 1}
  assert "domain" not in loaded.target_train and "domain" not in alone[0].source_train
  streams = splits.training_streams(config, {"source": loaded.source_train}, ("source",))
  assert isinstance(streams["source"], streams_lib.DomainStream)
  np.testing.assert_array_equal(streams["source"].batch(5)["domain"], [0] * 4 + [1] * 4)


def _one_source(config, name):
  one = config.copy_and_resolve_references()
  one.data.source, one.data.source_val_size = name, 2
  return one


# A loss over the domains (irm), an own update (mixup), an extra network over the sources and
# the target (multi_dann); tests/test_methods.py steps every method on a two-domain batch.
@pytest.mark.parametrize("method", ["irm", "mixup", "multi_dann"])
def test_a_multi_source_run_trains_and_reports_from_the_main_loop(
  tiny_config, mnist_files, tmp_path, method
):
  config = _multi_source_config(tiny_config, mnist_files, tmp_path)
  config.method.name = method
  config.train.num_steps = 3
  results = loop.train_and_evaluate(config, str(tmp_path / "run"))
  assert results["status"] == "finished" and results["source"] == SOURCES
  assert np.isfinite(results["target_test_accuracy"])


def test_sources_whose_classes_differ_are_refused(tiny_config, mnist_files, tmp_path):
  config = _multi_source_config(tiny_config, mnist_files, tmp_path)
  config.data.source = "rotated_mnist/0,colored_mnist/plus90"  # 10 digits vs 2 classes.
  config.data.classes = "common"  # Each source alone aligns with the target; not with each other.
  config.data.channels = 3
  with pytest.raises(ConfigError, match="give the run different classes"):
    splits.load_domains(config.data)

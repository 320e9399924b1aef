"""TFDS -> numpy arrays for one split, with clear errors for missing data.

The digit and sentiment datasets are small enough to hold in memory (images
as uint8, sentences as bytes), which makes batching a pure function of
(seed, step) and so resumable exactly; see `domains.py`. Text becomes model
input in `tljax/data/text.py`.
"""

import os

import numpy as np

from tljax.errors import ConfigError, DataError

# Datasets tljax knows how to pair; the embedded ones need no network, and
# MNIST and MNIST-M/offline need only the MNIST IDX files (config.data.manual_dir).
EMBEDDED = ("digits", "digits_m")
KNOWN_DATASETS = EMBEDDED + ("mnist", "mnist_m/offline", "mnist_m/bsds500", "svhn_cropped", "usps")
NEEDS_MNIST = ("mnist", "mnist_m/offline", "mnist_m/bsds500")
# Text: sentences of four genres; offline they need the archive in config.data.manual_dir.
TEXT_DATASETS = (
  "sentiment/tweets",
  "sentiment/movies",
  "sentiment/products",
  "sentiment/editorials",
)
KNOWN_DATASETS += TEXT_DATASETS


def is_text(name: str) -> bool:
  return name in TEXT_DATASETS


def check_dataset_name(field: str, name: str) -> None:
  if name not in KNOWN_DATASETS:
    raise ConfigError(
      f"config.data.{field}={name!r} is unknown; choose one of {list(KNOWN_DATASETS)}"
    )


def default_data_dir() -> str:
  return os.path.expanduser(os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets"))


def load_split(
  name: str,
  split: str,
  *,
  data_dir: str | None = None,
  manual_dir: str | None = None,
  shard: tuple[int, int] = (0, 1),
) -> dict[str, np.ndarray]:
  """Prepares `name` once in `data_dir`, then returns `split` as arrays.

  `shard=(index, count)` reads only the index-th of `count` contiguous,
  nearly equal parts of the split (`tfds.even_splits`): one per process.

  Returns:
    {"input": uint8 images [N, H, W, C] or bytes sentences [N], "label": int64 [N]}.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  from tljax.data import builders  # noqa: F401  Registers tljax's TFDS builders.

  tf.config.set_visible_devices([], "GPU")  # Keep the accelerators for JAX.
  data_dir = data_dir or default_data_dir()
  manual_dir = os.path.expanduser(manual_dir) if manual_dir else None
  try:
    if name == "mnist" and builders.mnist.has_idx_files(manual_dir):
      builder = builders.MnistFromIdx(data_dir=data_dir)
    else:
      builder = tfds.builder(name, data_dir=data_dir)
  except Exception as e:  # pylint: disable=broad-except  (e.g. a damaged dataset_info.json)
    raise DataError(_damaged(name, os.path.join(data_dir, name), e)) from None
  try:
    builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=manual_dir)
    )
  except AssertionError as e:  # TFDS reports a missing manual dir this way.
    raise DataError(
      f"dataset {name!r} needs files in its manual dir (config.data.manual_dir={manual_dir!r}): {e}"
    ) from e
  except (OSError, tfds.core.download.DownloadError) as e:
    hint = (
      "; offline, put the four MNIST IDX files (train-images-idx3-ubyte.gz, ...) in a directory "
      "and pass --config.data.manual_dir=DIR"
      if name in NEEDS_MNIST
      else "; offline, put hutto_ICWSM_2014.tar.gz in a directory and pass "
      "--config.data.manual_dir=DIR"
      if is_text(name)
      else ""
    )
    raise DataError(
      f"could not download or prepare dataset {name!r} in {data_dir}: {e.__class__.__name__}: "
      f"{str(e)[:300]}{hint}"
    ) from e
  if builder.info.splits and split not in builder.info.splits:
    raise ConfigError(
      f"dataset {name!r} has no split {split!r}; it has {sorted(builder.info.splits)}"
    )
  # Batches rather than batch_size=-1, which needs split sizes (mock data has none).
  index, count = shard
  part = split if count == 1 else tfds.even_splits(split, n=count, drop_remainder=False)[index]
  try:
    chunks = list(tfds.as_numpy(builder.as_dataset(split=part, batch_size=8192)))
  except (tf.errors.OpError, ValueError, OSError) as e:  # E.g. a damaged tfrecord file.
    raise DataError(_damaged(name, builder.data_dir, e)) from None
  input_key, label_key = builder.info.supervised_keys
  return {
    "input": np.concatenate([c[input_key] for c in chunks]),
    "label": np.concatenate([c[label_key] for c in chunks]),
  }


def _damaged(name: str, where: str, error: Exception) -> str:
  first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
  return (
    f"the prepared copy of dataset {name!r} in {where} cannot be read "
    f"({type(error).__name__}: {first}); delete that directory and rerun to prepare it again"
  )

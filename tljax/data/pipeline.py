"""TFDS -> numpy arrays for one split, with clear errors for missing data.

The digit and sentiment datasets are small enough to hold in memory (images
as uint8, sentences as bytes), which makes batching a pure function of
(seed, step) and so resumable exactly; see `domains.py`. Text becomes model
input in `tljax/data/text.py`.
"""

import logging
import os

import numpy as np

from tljax.data import array_cache, audio, benchmarks, folders, images
from tljax.errors import ConfigError, DataError

log = logging.getLogger("tljax")

# Datasets tljax knows how to pair; the embedded ones need no network, and
# MNIST and MNIST-M/offline need only the MNIST IDX files (config.data.manual_dir).
EMBEDDED = ("digits", "digits_m", "synth_digits")
KNOWN_DATASETS = EMBEDDED + ("mnist", "mnist_m/offline", "mnist_m/bsds500", "svhn_cropped", "usps")
# DomainBed's MNIST environments (tljax/data/builders/domainbed_mnist.py), also from the IDX files.
DOMAINBED_MNIST = tuple(f"rotated_mnist/{a}" for a in (0, 15, 30, 45, 60, 75)) + tuple(
  f"colored_mnist/{e}" for e in ("plus90", "plus80", "minus90")
)
KNOWN_DATASETS += DOMAINBED_MNIST
NEEDS_MNIST = ("mnist", "mnist_m/offline", "mnist_m/bsds500", *DOMAINBED_MNIST)
# Text: sentences of four genres; offline they need the archive in config.data.manual_dir.
TEXT_DATASETS = (
  "sentiment/tweets",
  "sentiment/movies",
  "sentiment/products",
  "sentiment/editorials",
)
KNOWN_DATASETS += TEXT_DATASETS
# Speech: spoken words synthesised offline by espeak-ng (tljax/data/builders/spoken.py).
SPOKEN_DATASETS = tuple(
  f"{vocabulary}/{domain}"
  for vocabulary in ("spoken_digits", "spoken_commands")
  for domain in ("us_clean", "accents_clean", "accents_noisy")
)
KNOWN_DATASETS += SPOKEN_DATASETS


def is_text(name: str) -> bool:
  return name in TEXT_DATASETS


def modality(name: str) -> str:
  """What dataset `name` holds: "images", "text" or "audio" (a folder of recordings)."""
  if is_text(name):
    return "text"
  if name in SPOKEN_DATASETS:
    return "audio"
  if folders.is_folder(name) and folders.holds_audio(folders.folder_path(name)):
    return "audio"
  return "images"


def check_dataset_name(field: str, name: str) -> None:
  """ConfigError unless `name` is tljax's, an image folder, a benchmark or in TFDS's catalog."""
  if name in KNOWN_DATASETS:
    return
  if folders.is_folder(name):
    if not folders.folder_path(name):
      raise ConfigError(f"config.data.{field}={name!r}: give the folder as folder:PATH")
    return
  if benchmarks.is_benchmark(name):
    return benchmarks.check_name(field, name)
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  if name.split("/")[0].split(":")[0] not in tfds.list_builders():
    raise ConfigError(
      f"config.data.{field}={name!r} is unknown: not one of tljax's {list(KNOWN_DATASETS)}, "
      "not folder:PATH, not a benchmark "
      f"({', '.join(b + '/DOMAIN' for b in benchmarks.BENCHMARKS)}) and not in TFDS's catalog"
    )


def load(name: str, split: str, data, shard: tuple[int, int] = (0, 1)) -> tuple[dict, list]:
  """(arrays of this process's shard of `split`, the dataset's class names).

  Images are uint8 [N, S, S, C] at `data.image_size` and `data.channels`: an
  array, or `images.FileImages` (decoded per batch) for files streamed under
  `data.load`. Sentences are bytes [N]. Audio is int16 [N, data.audio.num_samples]
  at `data.audio.sample_rate`, read into memory.
  """
  if folders.is_folder(name) or (
    benchmarks.is_benchmark(name) and not benchmarks.uses_tfds(name, data.manual_dir)
  ):
    if folders.is_folder(name):
      listing = folders.list_split(folders.folder_path(name), split, data.test_fraction)
    else:
      listing = benchmarks.list_split(name, split, data.manual_dir)
    part = np.array_split(np.arange(len(listing.paths)), shard[1])[shard[0]]
    if listing.kind == "audio":
      clips = audio.FileAudio(listing.paths[part], data.audio.sample_rate, data.audio.num_samples)
      log.info("%s: %d recordings, read into memory", name, len(clips))
      return {"input": np.asarray(clips), "label": listing.labels[part]}, list(listing.class_names)
    files = images.FileImages(listing.paths[part], data.image_size, data.channels, data.random_crop)
    return {
      "input": _in_memory_or_streamed(name, files, data),
      "label": listing.labels[part],
    }, list(listing.class_names)
  arrays, meta = _read(name, split, data.data_dir, data.manual_dir, shard)
  names = meta["names"]
  kind = modality(name)
  if kind == "audio":
    arrays["input"] = _clips(arrays["input"], meta["sample_rate"], data.audio)
  elif kind == "images":
    arrays["input"] = images.match_channels(arrays["input"], data.channels)
    arrays["input"] = images.resize_images(arrays["input"], data.image_size)
  return arrays, names


def _sample_rate(builder) -> int:
  return builder.info.features[builder.info.supervised_keys[0]].sample_rate


def _clips(waveforms: np.ndarray, rate: int, config) -> np.ndarray:
  """int16 [N, T] at `rate` as int16 [N, config.num_samples] at `config.sample_rate`."""
  if rate == config.sample_rate and waveforms.shape[1] == config.num_samples:
    return waveforms
  return np.stack(
    [
      audio.to_int16(
        audio.fit_length(audio.resample(w / 32768.0, rate, config.sample_rate), config.num_samples)
      )
      for w in waveforms
    ]
  )


AUTO_MEMORY_BYTES = 1 << 28  # 256 MB: a larger split streams, so a run keeps a few in memory.


def _in_memory_or_streamed(name: str, files: "images.FileImages", data):
  if data.load not in ("auto", "memory", "stream"):
    raise ConfigError(f"config.data.load={data.load!r} must be 'auto', 'memory' or 'stream'")
  size = int(np.prod(files.shape))
  stream = data.load == "stream" or (
    data.load == "auto" and (data.random_crop or size > AUTO_MEMORY_BYTES)
  )
  log.info(
    "%s: %d images, %.2f GB decoded: %s",
    name,
    len(files),
    size / 1e9,
    "streamed from the files" if stream else "decoded into memory",
  )
  return files if stream else np.asarray(files)


def class_names(name: str, data_dir: str | None = None, manual_dir: str | None = None) -> list[str]:
  """The names of a prepared TFDS dataset's classes ("0".."9" for digits)."""
  manual_dir = os.path.expanduser(manual_dir) if manual_dir else None
  return _label_names(_builder(name, data_dir or default_data_dir(), manual_dir))


def _label_names(builder) -> list[str]:
  label = builder.info.features[builder.info.supervised_keys[1]]
  return (
    list(label.names) if hasattr(label, "names") else [str(i) for i in range(label.num_classes)]
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
  return _read(name, split, data_dir, manual_dir, shard)[0]


def _read(name, split, data_dir, manual_dir, shard) -> tuple[dict, dict]:
  """(`load_split`'s arrays, {"names": the class names, "sample_rate": audio's, else None}).

  From the arrays kept by an earlier read (`array_cache`: no TensorFlow) while the prepared
  dataset is unchanged; else through TFDS, then kept."""
  data_dir = os.path.expanduser(data_dir or default_data_dir())
  kept = array_cache.read(data_dir, name, split, shard)
  if kept is not None:
    return kept
  arrays, builder = _read_split(name, split, data_dir, manual_dir, shard)
  meta = {
    "names": _label_names(builder),
    "sample_rate": _sample_rate(builder) if modality(name) == "audio" else None,
  }
  array_cache.write(data_dir, name, split, shard, arrays, os.fspath(builder.data_dir), **meta)
  return arrays, meta


def _read_split(name, split, data_dir, manual_dir, shard) -> tuple[dict, object]:
  """(`load_split`'s arrays, the prepared TFDS builder), read through TFDS."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  tf.config.set_visible_devices([], "GPU")  # Keep the accelerators for JAX.
  manual_dir = os.path.expanduser(manual_dir) if manual_dir else None
  builder = _builder(name, data_dir, manual_dir)
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
  input_key, label_key = _supervised_keys(name, builder)
  arrays = {
    "input": np.concatenate([c[input_key] for c in chunks]),
    "label": np.concatenate([c[label_key] for c in chunks]),
  }
  return arrays, builder


def _builder(name: str, data_dir: str, manual_dir: str | None):
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  from tljax.data import builders  # pylint: disable=g-import-not-at-top  Registers tljax's.

  try:
    if name == "mnist" and builders.mnist.has_idx_files(manual_dir):
      return builders.MnistFromIdx(data_dir=data_dir)
    return tfds.builder(name, data_dir=data_dir)
  except Exception as e:  # pylint: disable=broad-except  (e.g. a damaged dataset_info.json)
    raise DataError(_damaged(name, os.path.join(data_dir, name), e)) from None


def _supervised_keys(name: str, builder) -> tuple[str, str]:
  """(input, label) keys; ConfigError unless the dataset is classification of images or text."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  keys = builder.info.supervised_keys
  features = builder.info.features
  if (
    not keys
    or not isinstance(features[keys[1]], tfds.features.ClassLabel)
    or not isinstance(
      features[keys[0]], (tfds.features.Image, tfds.features.Text, tfds.features.Audio)
    )
  ):
    raise ConfigError(
      f"dataset {name!r} is not image, text or audio classification: its supervised keys are "
      f"{keys} over features {list(features.keys()) if hasattr(features, 'keys') else features}"
    )
  return keys[0], keys[1]


def _damaged(name: str, where: str, error: Exception) -> str:
  first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
  return (
    f"the prepared copy of dataset {name!r} in {where} cannot be read "
    f"({type(error).__name__}: {first}); delete that directory and rerun to prepare it again"
  )

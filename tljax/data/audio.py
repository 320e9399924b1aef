"""Audio as fixed-length int16 clips: reading files, resampling, cutting to length.

A clip is `num_samples` samples at `sample_rate` Hz, mono int16. Recordings
of other rates are resampled (polyphase, `scipy.signal.resample_poly`),
stereo is averaged, a longer recording keeps its centre and a shorter one is
centred in silence. The log-mel front end runs in the model, on the device
(`tljax/models/audio.py`); this module only prepares the waveforms.
"""

import io
import logging
import math
import wave

import ml_collections
import numpy as np

from tljax.errors import ConfigError, DataError

log = logging.getLogger("tljax")

AUDIO_SUFFIXES = (".wav", ".flac")


def defaults() -> ml_collections.ConfigDict:
  """`config.data.audio`: the clips' rate and length, and the views' SpecAugment masks."""
  return ml_collections.ConfigDict(
    {
      "sample_rate": 16000,  # Hz; recordings of other rates are resampled.
      "num_samples": 16000,  # Clip length (one second at 16 kHz): longer cut, shorter padded.
      "shift": 1600,  # Views: each clip shifted by up to this many samples.
      "masks": 1,  # Views: time masks and frequency masks per clip (twice this when strong).
      "time_mask": 1600,  # Samples per time mask, at most.
      "freq_mask": 0.1,  # Share of the spectrum per frequency mask, at most.
    }
  )


def check(config: ml_collections.ConfigDict) -> None:
  """ConfigError naming the first field of `config.data.audio` that cannot work."""
  for field in ("sample_rate", "num_samples"):
    if not isinstance(config[field], int) or config[field] < 1:
      raise ConfigError(f"config.data.audio.{field}={config[field]!r} must be an integer >= 1")
  for field in ("shift", "masks", "time_mask"):
    if not isinstance(config[field], int) or config[field] < 0:
      raise ConfigError(f"config.data.audio.{field}={config[field]!r} must be an integer >= 0")
  if config.shift * 4 >= config.num_samples or config.time_mask > config.num_samples:
    raise ConfigError(
      f"config.data.audio.shift={config.shift} and time_mask={config.time_mask} must stay "
      f"within the clip: shift < num_samples / 4 and time_mask <= num_samples="
      f"{config.num_samples}"
    )
  if not 0 <= config.freq_mask < 1:
    raise ConfigError(f"config.data.audio.freq_mask={config.freq_mask!r} must be in [0, 1)")


def resample(x: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
  """float waveform `x` at `rate` Hz, resampled to `new_rate` Hz (polyphase, anti-aliased)."""
  if rate == new_rate:
    return x
  from scipy import signal  # pylint: disable=g-import-not-at-top

  g = math.gcd(rate, new_rate)
  return signal.resample_poly(x, new_rate // g, rate // g)


def fit_length(x: np.ndarray, num_samples: int, offset: int | None = None) -> np.ndarray:
  """`x` cut or zero-padded to `num_samples`: its centre, or placed at `offset` when shorter."""
  n = len(x)
  if n >= num_samples:
    start = (n - num_samples) // 2
    return x[start : start + num_samples]
  out = np.zeros(num_samples, x.dtype)
  start = (num_samples - n) // 2 if offset is None else int(np.clip(offset, 0, num_samples - n))
  out[start : start + n] = x
  return out


def to_int16(x: np.ndarray) -> np.ndarray:
  """float waveform in [-1, 1] (clipped) as int16."""
  return np.clip(np.rint(x * 32767.0), -32768, 32767).astype(np.int16)


def read_wav_bytes(data: bytes) -> tuple[np.ndarray, int]:
  """(float mono waveform in [-1, 1], sample rate) of 16-bit PCM WAV bytes (espeak-ng's output).

  espeak-ng's `--stdout` writes a header whose data length is unknown
  (0x7fffffff), so the samples are read to the end of the bytes.
  """
  with wave.open(io.BytesIO(data)) as w:
    if w.getsampwidth() != 2:
      raise DataError(f"expected 16-bit PCM audio, got {8 * w.getsampwidth()}-bit")
    rate, channels = w.getframerate(), w.getnchannels()
    header = len(data) - len(w.readframes(w.getnframes()))
  raw = data[header:]
  samples = np.frombuffer(raw[: len(raw) // (2 * channels) * 2 * channels], "<i2")
  return samples.reshape(-1, channels).mean(axis=1) / 32768.0, rate


def read_file(path: str, sample_rate: int, num_samples: int) -> np.ndarray:
  """int16 [num_samples] of the recording at `path` (WAV or FLAC), mono, at `sample_rate`.

  Raises:
    DataError: the file is not audio soundfile can read.
  """
  import soundfile  # pylint: disable=g-import-not-at-top

  try:
    x, rate = soundfile.read(path, dtype="float32", always_2d=True)
  except (RuntimeError, soundfile.LibsndfileError, OSError) as e:
    raise DataError(f"{path}: not a readable audio file ({e})") from None
  if len(x) == 0:
    raise DataError(f"{path}: holds no samples")
  return to_int16(fit_length(resample(x.mean(axis=1), rate, sample_rate), num_samples))


def is_audio(path: str) -> bool:
  return path.lower().endswith(AUDIO_SUFFIXES)


class FileAudio:
  """Audio files read on demand as int16 clips; indexing returns [len(idx), num_samples].

  The audio counterpart of `images.FileImages`: a folder split keeps only
  its file list until `np.asarray` (or a batch) reads it.
  """

  def __init__(self, paths, sample_rate: int, num_samples: int):
    self.paths = np.asarray(paths)
    self.sample_rate = sample_rate
    self.num_samples = num_samples

  def __len__(self) -> int:
    return len(self.paths)

  @property
  def shape(self) -> tuple[int, int]:
    return (len(self.paths), self.num_samples)

  dtype = np.dtype(np.int16)

  def __getitem__(self, idx) -> np.ndarray:
    paths = self.paths[idx]
    if np.ndim(paths) == 0:
      return read_file(str(paths), self.sample_rate, self.num_samples)
    if len(paths) == 0:
      return np.zeros((0, self.num_samples), np.int16)
    return np.stack([read_file(str(p), self.sample_rate, self.num_samples) for p in paths])

  def __array__(self, dtype=None, copy=None):
    del copy
    out = self[np.arange(len(self))]
    return out if dtype is None else out.astype(dtype)

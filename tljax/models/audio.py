"""Audio: a log-mel front end computed in JAX (on the device), and a small conv net over it.

`log_mel(waveforms, ...)` is librosa's `melspectrogram` (centred frames with
zero padding, a periodic Hann window, power 2, Slaney mel filters with Slaney
area normalisation) followed by log(max(mel, floor)); `mel_filters` builds
the filter bank in numpy once, when the network is traced. The network reads
int16-scale waveforms [B, T] and returns features [B, D] like the image and
text backbones, so every method runs on audio unchanged.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from tljax.models.conv import max_pool_2x2


def hz_to_mel(hz):
  """Slaney's mel scale (librosa's default, `htk=False`): linear below 1 kHz, log above."""
  hz = np.asarray(hz, np.float64)
  f_sp, min_log_hz = 200.0 / 3, 1000.0
  min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
  return np.where(
    hz >= min_log_hz, min_log_mel + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep, hz / f_sp
  )


def mel_to_hz(mel):
  mel = np.asarray(mel, np.float64)
  f_sp, min_log_hz = 200.0 / 3, 1000.0
  min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
  return np.where(
    mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel
  )


def mel_filters(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
  """[n_mels, n_fft // 2 + 1] triangular filters, Slaney-normalised (each has area 2 / width)."""
  fft_hz = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
  edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
  widths = np.diff(edges)
  ramps = edges[:, None] - fft_hz[None, :]
  lower = -ramps[:-2] / widths[:-1, None]
  upper = ramps[2:] / widths[1:, None]
  weights = np.maximum(0, np.minimum(lower, upper))
  return (weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


def mel_power(
  waveforms: jnp.ndarray,
  sample_rate: int,
  n_fft: int = 400,
  hop: int = 160,
  n_mels: int = 40,
  fmin: float = 20.0,
  fmax: float | None = None,
) -> jnp.ndarray:
  """Mel power spectrogram [B, frames, n_mels] of float waveforms [B, T] (librosa's maths).

  frames = 1 + T // hop: each frame is centred on a multiple of `hop`, the
  signal zero-padded by n_fft // 2 at both ends.
  """
  x = jnp.pad(waveforms, ((0, 0), (n_fft // 2, n_fft // 2)))
  frames = 1 + (x.shape[1] - n_fft) // hop
  index = np.arange(frames)[:, None] * hop + np.arange(n_fft)[None, :]
  window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # Periodic Hann.
  spectrum = jnp.fft.rfft(x[:, index] * window.astype(np.float32), axis=-1)
  power = jnp.real(spectrum) ** 2 + jnp.imag(spectrum) ** 2
  filters = mel_filters(sample_rate, n_fft, n_mels, fmin, fmax or sample_rate / 2)
  return power @ filters.T


SUMMARY_MELS = 40  # `band_statistics`' bands.


def band_statistics(waveforms: jnp.ndarray, sample_rate: int = 16000) -> jnp.ndarray:
  """[B, 2 * SUMMARY_MELS]: each mel band's mean and standard deviation of log power over time.

  The input space of audio where one is compared without a network (the
  proxy A-distance in the input, instance weighting's density ratios): it
  ignores when in the clip a word is said.
  """
  logmel = LogMel(sample_rate=sample_rate, n_mels=SUMMARY_MELS, normalize=False)(waveforms)
  return jnp.concatenate([logmel.mean(axis=1), logmel.std(axis=1)], axis=1)


class LogMel(nn.Module):
  """int16-scale waveforms [B, T] -> log-mel [B, frames, n_mels], normalised per utterance.

  Normalisation (`normalize=True`): each mel band minus its mean over the
  utterance's frames (cepstral mean normalisation, which removes a fixed
  channel's colouring), then divided by the utterance's standard deviation.
  """

  sample_rate: int = 16000
  n_fft: int = 400
  hop: int = 160
  n_mels: int = 40
  fmin: float = 20.0
  fmax: float | None = None
  floor: float = 1e-6  # log(max(mel, floor)): silence is log(floor), not -inf.
  normalize: bool = True

  def __call__(self, waveforms: jnp.ndarray) -> jnp.ndarray:
    x = waveforms.astype(jnp.float32) / 32768.0
    mel = mel_power(x, self.sample_rate, self.n_fft, self.hop, self.n_mels, self.fmin, self.fmax)
    logmel = jnp.log(jnp.maximum(mel, self.floor))
    if not self.normalize:
      return logmel
    logmel = logmel - logmel.mean(axis=1, keepdims=True)
    return logmel / (logmel.std(axis=(1, 2), keepdims=True) + 1e-5)


class AudioConvNet(nn.Module):
  """Log-mel front end, then 3x3 conv blocks (conv, BatchNorm if `norm="batch"`, ReLU, 2x2
  max pool) over the (frames, mel bands) image, and the mean over what is left: [B, widths[-1]].
  """

  front_end: LogMel = LogMel()
  widths: tuple[int, ...] = (32, 64, 128)
  norm: str = "batch"

  @nn.compact
  def __call__(self, waveforms: jnp.ndarray, train: bool) -> jnp.ndarray:
    x = self.front_end(waveforms)[..., None]
    for width in self.widths:
      x = nn.Conv(width, (3, 3), padding="SAME", use_bias=self.norm == "none")(x)
      if self.norm == "batch":
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
      x = max_pool_2x2(jax.nn.relu(x))
    return x.mean(axis=(1, 2))

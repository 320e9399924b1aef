"""Spoken words rendered offline by espeak-ng, and recording conditions applied to them.

`render(word, voice, rng)` runs espeak-ng once (`--stdout`, 22,050 Hz) and
returns the word resampled to 16 kHz; `Condition` describes one utterance's
channel (additive noise at an SNR, a telephone band, a room) and `apply`
puts a clean utterance through it. Everything is drawn from numpy generators
seeded by the caller, so a dataset built twice is the same bytes.

The synthesiser is found as `espeak-ng` on PATH, or at `$TLJAX_ESPEAK` (a
test points it at a fake).
"""

import dataclasses
import os
import shutil
import subprocess

import numpy as np

from tljax.data import audio
from tljax.errors import DataError

INSTALL = (
  "install it with `apt-get install espeak-ng` (Debian/Ubuntu) or `brew install espeak-ng` "
  "(macOS), or set TLJAX_ESPEAK to its path"
)


def espeak() -> str:
  """The synthesiser's path; DataError saying how to install it when there is none."""
  path = os.environ.get("TLJAX_ESPEAK") or shutil.which("espeak-ng")
  if not path or not os.access(path, os.X_OK):
    raise DataError(f"the spoken-word datasets are synthesised by espeak-ng, not found: {INSTALL}")
  return path


def version() -> str:
  """espeak-ng's version line (recorded in the dataset's metadata)."""
  done = subprocess.run([espeak(), "--version"], capture_output=True, text=True, check=False)
  return done.stdout.strip() or done.stderr.strip()


@dataclasses.dataclass(frozen=True)
class Voice:
  """One espeak-ng voice: an accent (`-v en-gb`), a variant (`+f2`), pitch (`-p`), rate (`-s`)."""

  accent: str
  variant: str
  pitch: int  # 0-99, espeak's default 50.
  rate: int  # Words per minute, espeak's default 175.

  def arguments(self) -> list[str]:
    name = self.accent + (f"+{self.variant}" if self.variant else "")
    return ["-v", name, "-p", str(self.pitch), "-s", str(self.rate)]


def render(word: str, voice: Voice, sample_rate: int) -> np.ndarray:
  """float waveform of `word` spoken by `voice`, at `sample_rate` Hz (trimmed of silence)."""
  command = [espeak(), *voice.arguments(), "--stdout", word]
  try:
    done = subprocess.run(command, capture_output=True, check=False, timeout=60)
  except (OSError, subprocess.TimeoutExpired) as e:
    raise DataError(f"espeak-ng failed on {word!r} ({' '.join(command[1:])}): {e}") from None
  if done.returncode:
    message = done.stderr.decode(errors="replace").strip().splitlines()
    raise DataError(
      f"espeak-ng failed on {word!r} ({' '.join(command[1:])}): exit {done.returncode}"
      + (f", {message[0][:200]}" if message else "")
    )
  try:
    x, rate = audio.read_wav_bytes(done.stdout)
  except Exception as e:  # pylint: disable=broad-except  (wave.Error, EOFError, ...)
    raise DataError(f"espeak-ng wrote no readable WAV for {word!r}: {e}") from None
  x = audio.resample(x, rate, sample_rate)
  loud = np.flatnonzero(np.abs(x) > 1e-3)
  if not len(loud):
    raise DataError(f"espeak-ng rendered {word!r} ({' '.join(command[1:])}) as silence")
  return x[loud[0] : loud[-1] + 1]


@dataclasses.dataclass(frozen=True)
class Condition:
  """A recording condition: noise (`kind` at `snr_db`), a telephone band, a room's reverberation."""

  noise: str  # "none", "white", "pink", "brown" or "babble".
  snr_db: float
  telephone: bool
  rt60: float  # Reverberation time in seconds; 0: no room.


CLEAN = Condition("none", np.inf, False, 0.0)
NOISES = ("white", "pink", "brown", "babble")


def draw_condition(rng: np.random.Generator) -> Condition:
  """A condition of the noisy domain: noise at 0-20 dB SNR; a phone line or a room, each p=1/2."""
  return Condition(
    noise=NOISES[rng.integers(len(NOISES))],
    snr_db=float(rng.uniform(0.0, 20.0)),
    telephone=bool(rng.random() < 0.5),
    rt60=float(rng.uniform(0.2, 0.8)) if rng.random() < 0.5 else 0.0,
  )


def coloured_noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
  """Unit-power noise with a 1/f^0 (white), 1/f (pink) or 1/f^2 (brown) power spectrum."""
  spectrum = np.fft.rfft(rng.standard_normal(n))
  exponent = {"white": 0.0, "pink": 0.5, "brown": 1.0}[kind]
  freqs = np.arange(len(spectrum), dtype=np.float64)
  freqs[0] = 1.0
  noise = np.fft.irfft(spectrum / freqs**exponent, n)
  return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def room_impulse(rt60: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
  """A synthetic room: a direct path, then exponentially decaying noise (60 dB down at `rt60` s)."""
  n = int(rt60 * sample_rate)
  t = np.arange(n) / sample_rate
  tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60)  # ln(1000): 60 dB in amplitude.
  tail[0] = 0.0
  return np.concatenate([[1.0], 0.3 * tail / np.sqrt(np.sum(tail**2) + 1e-12)])


def telephone(x: np.ndarray, sample_rate: int) -> np.ndarray:
  """Through a phone line: down to 8 kHz, the 300-3400 Hz band, and back up to `sample_rate`."""
  from scipy import signal  # pylint: disable=g-import-not-at-top

  narrow = audio.resample(x, sample_rate, 8000)
  band = signal.butter(4, [300, 3400], btype="bandpass", fs=8000, output="sos")
  return audio.resample(signal.sosfilt(band, narrow), 8000, sample_rate)[: len(x)]


def apply(
  x: np.ndarray,
  condition: Condition,
  sample_rate: int,
  rng: np.random.Generator,
  babble: list[np.ndarray] = (),
) -> np.ndarray:
  """The clip `x` (already at its final length) recorded under `condition`, peak-limited to 1.

  Order: the room, then the phone line, then noise at `snr_db` relative to the
  speech's power (babble: the sum of the `babble` utterances at random shifts).
  """
  from scipy import signal  # pylint: disable=g-import-not-at-top

  y = x
  if condition.rt60 > 0:
    y = signal.fftconvolve(y, room_impulse(condition.rt60, sample_rate, rng))[: len(x)]
  if condition.telephone:
    y = telephone(y, sample_rate)
  if condition.noise != "none":
    if condition.noise == "babble":
      if not len(babble):
        raise ValueError("babble noise needs other utterances")
      noise = sum(np.roll(b, rng.integers(len(b))) for b in babble)
      noise = noise / (np.sqrt(np.mean(noise**2)) + 1e-12)
    else:
      noise = coloured_noise(condition.noise, len(y), rng)
    power = np.mean(y**2)
    y = y + noise * np.sqrt(power / 10 ** (condition.snr_db / 10))
  peak = np.max(np.abs(y))
  return y / peak * 0.9 if peak > 0.9 else y

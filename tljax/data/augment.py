"""On-device augmentation, driven by the step's `aug_rng`.

Methods ask the step's `Augment` for views and never see what the input is:
`weak(x, rng)` makes the default view of every stream, `strong(x, rng)` the
second view of self-training. `Images`, `Text` and `Audio` are the kinds.
"""

import dataclasses

import jax
import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class Images:
  """Weak: a random shift of up to `shift` px, then `colour_jitter` if `colour`; strong:
  `strong_augment`."""

  shift: int = 0
  strong_shift: int = 4
  cutout: int = 8
  colour: bool = False

  def weak(self, x: jax.Array, rng: jax.Array) -> jax.Array:
    if not self.colour:
      return random_shift(x, rng, self.shift)
    shift_rng, colour_rng = jax.random.split(rng)
    return colour_jitter(random_shift(x, shift_rng, self.shift), colour_rng)

  def strong(self, x: jax.Array, rng: jax.Array) -> jax.Array:
    return strong_augment(x, rng, self.strong_shift, self.cutout)


@dataclasses.dataclass(frozen=True)
class Text:
  """Weak: the input as it is; strong: each entry (n-gram or token) dropped with prob. `drop`."""

  drop: float = 0.1

  def weak(self, x: jax.Array, rng: jax.Array) -> jax.Array:
    del rng
    return x

  def strong(self, x: jax.Array, rng: jax.Array) -> jax.Array:
    return jnp.where(jax.random.bernoulli(rng, 1.0 - self.drop, x.shape), x, 0)


@dataclasses.dataclass(frozen=True)
class Audio:
  """SpecAugment-style views of waveforms [B, T], drawn per example (Park et al. 2019).

  Weak: a time shift of up to `shift` samples (zeros shifted in), then
  `masks` time masks (up to `time_mask` samples set to zero) and `masks`
  frequency masks (a band of up to `freq_mask` of the spectrum's bins set to
  zero, through an FFT of the clip). Strong: twice the masks and the shift,
  and a random gain of -6 to +6 dB. Masking the waveform rather than the
  log-mel image keeps the front end inside the model, so evaluation and
  every method read the same input.
  """

  shift: int = 1600
  masks: int = 1
  time_mask: int = 1600
  freq_mask: float = 0.1  # A fraction of the bins up to half the sample rate.

  def weak(self, x: jax.Array, rng: jax.Array) -> jax.Array:
    return self._views(x, rng, self.shift, self.masks)

  def strong(self, x: jax.Array, rng: jax.Array) -> jax.Array:
    gain_rng, rng = jax.random.split(rng)
    gain = 10 ** (jax.random.uniform(gain_rng, (x.shape[0], 1), minval=-6, maxval=6) / 20)
    return self._views(x, rng, 2 * self.shift, 2 * self.masks) * gain

  def _views(self, x: jax.Array, rng: jax.Array, shift: int, masks: int) -> jax.Array:
    shift_rng, time_rng, freq_rng = jax.random.split(rng, 3)
    x = time_shift(x.astype(jnp.float32), shift_rng, shift)
    for r in jax.random.split(time_rng, masks):
      x = time_mask(x, r, self.time_mask)
    for r in jax.random.split(freq_rng, masks):
      x = frequency_mask(x, r, self.freq_mask)
    return x


def time_shift(x: jax.Array, rng: jax.Array, max_shift: int) -> jax.Array:
  """Each waveform of [B, T] delayed or advanced by up to `max_shift` samples, zeros shifted in."""
  if max_shift == 0:
    return x
  b, t = x.shape
  shift = jax.random.randint(rng, (b, 1), -max_shift, max_shift + 1)
  source = jnp.arange(t)[None, :] - shift
  inside = (source >= 0) & (source < t)
  return jnp.where(inside, jnp.take_along_axis(x, jnp.clip(source, 0, t - 1), axis=1), 0.0)


def time_mask(x: jax.Array, rng: jax.Array, max_width: int) -> jax.Array:
  """One stretch of up to `max_width` samples of each waveform [B, T] set to zero."""
  if max_width == 0:
    return x
  b, t = x.shape
  width_rng, start_rng = jax.random.split(rng)
  width = jax.random.randint(width_rng, (b, 1), 0, max_width + 1)
  start = jax.random.randint(start_rng, (b, 1), 0, t)
  position = jnp.arange(t)[None, :]
  return jnp.where((position >= start) & (position < start + width), 0.0, x)


def frequency_mask(x: jax.Array, rng: jax.Array, max_fraction: float) -> jax.Array:
  """One band of up to `max_fraction` of each waveform's rfft bins set to zero."""
  if max_fraction == 0:
    return x
  b, t = x.shape
  spectrum = jnp.fft.rfft(x, axis=1)
  bins = spectrum.shape[1]
  width_rng, start_rng = jax.random.split(rng)
  width = jax.random.randint(width_rng, (b, 1), 0, int(max_fraction * bins) + 1)
  start = jax.random.randint(start_rng, (b, 1), 0, bins)
  position = jnp.arange(bins)[None, :]
  spectrum = jnp.where((position >= start) & (position < start + width), 0.0, spectrum)
  return jnp.fft.irfft(spectrum, t, axis=1)


Augment = Images | Text | Audio


def random_shift(images: jax.Array, rng: jax.Array, max_shift: int) -> jax.Array:
  """Translates each image by up to `max_shift` pixels, repeating the edge.

  Written as two batched one-hot matmuls (rows, then columns) rather than a
  per-image gather: several times cheaper on XLA:CPU, and exact, since each
  output pixel copies one input pixel.

  Args:
    images: [B, H, W, C].
    rng: PRNG key; each image draws its own (dy, dx) in [-max_shift, max_shift].
    max_shift: 0 returns `images` unchanged.

  Returns:
    [B, H, W, C] float32 (pixel values unchanged), or `images` if max_shift=0.
  """
  if max_shift == 0:
    return images
  b, h, w, _ = images.shape
  dy, dx = jax.random.randint(rng, (2, b), -max_shift, max_shift + 1)

  def selector(size, shift):  # [B, size, size]: output i reads input i + shift.
    source = jnp.clip(jnp.arange(size)[None, :] + shift[:, None], 0, size - 1)
    return jax.nn.one_hot(source, size, dtype=jnp.float32)

  x = images.astype(jnp.float32)
  x = jnp.einsum("bhi,biwc->bhwc", selector(h, dy), x)
  return jnp.einsum("bwj,bhjc->bhwc", selector(w, dx), x)


def colour_jitter(images: jax.Array, rng: jax.Array) -> jax.Array:
  """Per image: a gain in [0.5, 1.5] on each colour channel (clipped to [0, 255]), then colour
  inversion (255 - x) with probability 1/2. [B, H, W, C] -> float32, same shape."""
  return _gain_and_invert(images, *jax.random.split(rng))


def _gain_and_invert(images: jax.Array, gain_rng: jax.Array, invert_rng: jax.Array) -> jax.Array:
  x = images.astype(jnp.float32)
  b, _, _, c = x.shape
  x = jnp.clip(x * jax.random.uniform(gain_rng, (b, 1, 1, c), minval=0.5, maxval=1.5), 0, 255)
  return jnp.where(jax.random.bernoulli(invert_rng, 0.5, (b, 1, 1, 1)), 255.0 - x, x)


def strong_augment(
  images: jax.Array, rng: jax.Array, max_shift: int = 4, cutout: int = 8
) -> jax.Array:
  """A strong on-device augmentation for self-training's second view (FixMatch-style).

  Per image: a shift of up to `max_shift` pixels, `colour_jitter` (random gains
  in [0.5, 1.5] per colour channel, inversion with probability 1/2), and a grey
  `cutout` x `cutout` square at a random place (DeVries & Taylor 2017).

  Args:
    images: [B, H, W, C] pixel values in [0, 255].
    rng: PRNG key.
    max_shift: largest translation in pixels.
    cutout: side of the grey square in pixels (0: none).

  Returns:
    [B, H, W, C] float32 pixel values in [0, 255].
  """
  shift_rng, gain_rng, invert_rng, cut_rng = jax.random.split(rng, 4)
  x = _gain_and_invert(random_shift(images, shift_rng, max_shift), gain_rng, invert_rng)
  b, h, w, _ = x.shape
  if cutout:
    cy, cx = jax.random.randint(cut_rng, (2, b, 1, 1), 0, jnp.array([h, w])[:, None, None, None])
    rows, cols = jnp.arange(h)[None, :, None], jnp.arange(w)[None, None, :]
    inside = (jnp.abs(rows - cy) * 2 < cutout) & (jnp.abs(cols - cx) * 2 < cutout)
    x = jnp.where(inside[..., None], 127.5, x)
  return x

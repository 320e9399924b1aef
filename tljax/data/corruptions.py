"""Image corruptions for test-time adaptation, deterministic for a seed (numpy, scipy, PIL).

Two families, on uint8 images [N, H, W, C]:

- `MNIST_C`: MNIST-C-style corruptions of grey digits (Mu & Gilmer 2019,
  arXiv:1906.02337): noise, blurs, affine transforms, brightness, stripes,
  fog and drawn lines, at one severity as MNIST-C has.
- `COLOUR`: the ImageNet-C-style corruptions (Hendrycks & Dietterich 2019)
  that apply to colour digits, each at severities 1-5.

`corrupt(images, name, severity, seed)` returns new uint8 images of the same
shape; every random draw comes from `np.random.default_rng([seed, ...])`,
so the same call gives the same bytes. The parameters per severity are
tljax's choice for 28 x 28 digits (the papers' are for 224 px photos or
were set by eye), listed in `SEVERITIES`.
"""

import io

import numpy as np

from tljax.errors import ConfigError

# name -> the parameter at severities 1..5 (its meaning: the function's docstring).
SEVERITIES = {
  "shot_noise": (60, 25, 12, 5, 3),  # Photons per unit intensity (fewer: noisier).
  "impulse_noise": (0.03, 0.06, 0.09, 0.17, 0.27),  # Share of pixels set to 0 or 255.
  "gaussian_noise": (0.08, 0.12, 0.18, 0.26, 0.38),  # Noise std, intensities in [0, 1].
  "glass_blur": (0.4, 0.6, 0.8, 1.0, 1.2),  # Blur sigma (pixels swap within 1-2 px between).
  "motion_blur": (3, 5, 7, 9, 11),  # Kernel length (pixels).
  "gaussian_blur": (0.5, 0.8, 1.1, 1.5, 2.0),  # Sigma (pixels).
  "shear": (0.15, 0.25, 0.35, 0.45, 0.55),  # Shear factor, random sign.
  "scale": (0.9, 0.8, 0.7, 0.6, 0.5),  # Zoom factor (< 1: smaller digit).
  "rotate": (10, 20, 30, 40, 50),  # Degrees, random sign.
  "translate": (2, 3, 4, 5, 6),  # Pixels, random direction.
  "brightness": (0.1, 0.2, 0.3, 0.4, 0.5),  # Added to intensities in [0, 1].
  "contrast": (0.6, 0.5, 0.4, 0.3, 0.2),  # Distance to the mean scaled by this.
  "stripe": (1, 2, 3, 4, 5),  # Inverted stripes (every other column band of this width).
  "fog": (0.2, 0.3, 0.4, 0.5, 0.6),  # Strength of smooth random haze.
  "dotted_line": (1, 2, 2, 3, 3),  # Dotted lines drawn across the image.
  "zigzag": (1, 1, 2, 2, 3),  # Zigzag lines drawn across the image.
  "canny_edges": (1.0, 1.5, 2.0, 2.5, 3.0),  # The digit replaced by its Canny edges (sigma).
  "jpeg": (40, 25, 15, 10, 7),  # JPEG quality.
  "pixelate": (0.9, 0.75, 0.6, 0.5, 0.4),  # Down-sampling factor before nearest up-sampling.
  "elastic": (1.0, 1.5, 2.0, 2.5, 3.0),  # Displacement scale (pixels).
}
MNIST_C = (
  "shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate",
  "brightness", "translate", "stripe", "fog", "dotted_line", "zigzag", "canny_edges",
)  # fmt: skip
MNIST_C_SEVERITY = 3  # MNIST-C has one severity per corruption.
COLOUR = (
  "gaussian_noise", "gaussian_blur", "contrast", "brightness", "jpeg", "pixelate", "fog", "elastic",
)  # fmt: skip


def check(name: str, severity: int) -> None:
  """ConfigError naming the corruption or severity that does not exist."""
  if name not in SEVERITIES:
    raise ConfigError(f"corruption {name!r} does not exist; choose one of {sorted(SEVERITIES)}")
  if severity not in (1, 2, 3, 4, 5):
    raise ConfigError(f"corruption severity {severity!r} does not exist; choose 1 to 5")


def corrupt(images: np.ndarray, name: str, severity: int, seed: int = 0) -> np.ndarray:
  """uint8 images [N, H, W, C] under corruption `name` at `severity` (1-5), seeded."""
  check(name, severity)
  param = SEVERITIES[name][severity - 1]
  x = images.astype(np.float64) / 255.0
  out = np.empty_like(x)
  for i in range(len(x)):
    rng = np.random.default_rng([seed, i, severity, sum(map(ord, name))])
    out[i] = _FUNCTIONS[name](x[i], param, rng)
  return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)


def _shot_noise(x, photons, rng):
  """Poisson counts of `photons` per unit intensity, rescaled."""
  return rng.poisson(x * photons) / photons


def _impulse_noise(x, amount, rng):
  """A share `amount` of the pixels set to black or white."""
  hit = rng.random(x.shape[:2]) < amount
  salt = rng.random(x.shape[:2]) < 0.5
  return np.where(hit[..., None], salt[..., None].astype(np.float64), x)


def _gaussian_noise(x, std, rng):
  return x + rng.normal(0.0, std, x.shape)


def _blur(x, sigma):
  from scipy import ndimage  # pylint: disable=g-import-not-at-top

  return ndimage.gaussian_filter(x, sigma=(sigma, sigma, 0))


def _gaussian_blur(x, sigma, rng):
  del rng
  return _blur(x, sigma)


def _glass_blur(x, sigma, rng):
  """Blur, swap each pixel with a random neighbour within 1-2 px, blur again."""
  x = _blur(x, sigma)
  h, w = x.shape[:2]
  rows = np.clip(np.arange(h)[:, None] + rng.integers(-2, 3, (h, w)), 0, h - 1)
  cols = np.clip(np.arange(w)[None, :] + rng.integers(-2, 3, (h, w)), 0, w - 1)
  return _blur(x[rows, cols], sigma)


def _motion_blur(x, length, rng):
  """Average along a line of `length` pixels at a random angle."""
  from scipy import ndimage  # pylint: disable=g-import-not-at-top

  kernel = np.zeros((length, length))
  kernel[length // 2, :] = 1.0
  kernel = ndimage.rotate(kernel, rng.uniform(-45, 45), reshape=False, order=1)
  kernel /= kernel.sum()
  return np.stack([ndimage.convolve(x[..., c], kernel) for c in range(x.shape[-1])], -1)


def _affine(x, matrix, offset=(0.0, 0.0)):
  """x sampled at matrix @ (out - centre) + centre + offset (bilinear, zeros outside)."""
  from scipy import ndimage  # pylint: disable=g-import-not-at-top

  centre = (np.array(x.shape[:2]) - 1) / 2.0
  shift = centre - matrix @ centre + np.asarray(offset)
  return np.stack(
    [
      ndimage.affine_transform(x[..., c], matrix, offset=shift, order=1) for c in range(x.shape[-1])
    ],
    -1,
  )


def _shear(x, factor, rng):
  sign = rng.choice([-1.0, 1.0])
  return _affine(x, np.array([[1.0, 0.0], [sign * factor, 1.0]]))


def _scale(x, factor, rng):
  del rng
  return _affine(x, np.eye(2) / factor)


def _rotate(x, degrees, rng):
  angle = np.deg2rad(degrees * rng.choice([-1.0, 1.0]))
  c, s = np.cos(angle), np.sin(angle)
  return _affine(x, np.array([[c, -s], [s, c]]))


def _translate(x, pixels, rng):
  angle = rng.uniform(0, 2 * np.pi)
  return _affine(x, np.eye(2), (pixels * np.sin(angle), pixels * np.cos(angle)))


def _brightness(x, amount, rng):
  del rng
  return x + amount


def _contrast(x, factor, rng):
  del rng
  mean = x.mean(axis=(0, 1), keepdims=True)
  return (x - mean) * factor + mean


def _stripe(x, width, rng):
  """Every other band of `width` columns inverted, starting at a random column."""
  cols = (np.arange(x.shape[1]) + rng.integers(2 * width)) // width % 2 == 1
  return np.where(cols[None, :, None], 1.0 - x, x)


def _fog(x, strength, rng):
  """Smooth random haze: low-resolution noise, blurred, added."""
  from scipy import ndimage  # pylint: disable=g-import-not-at-top

  h, w = x.shape[:2]
  coarse = rng.random((h // 4 + 2, w // 4 + 2))
  haze = ndimage.zoom(coarse, 4, order=3)[:h, :w]
  haze = ndimage.gaussian_filter(haze, 2.0)
  haze = (haze - haze.min()) / (np.ptp(haze) + 1e-12)
  return x + strength * haze[..., None]


def _draw(x, points, value=1.0, every=1):
  """x with the pixels along the polyline `points` ((row, col) floats) set to `value`."""
  out = x.copy()
  h, w = x.shape[:2]
  for (r0, c0), (r1, c1) in zip(points[:-1], points[1:]):
    n = int(max(abs(r1 - r0), abs(c1 - c0)) * 2) + 1
    for k, t in enumerate(np.linspace(0.0, 1.0, n)):
      if k % (2 * every) >= every:
        continue  # The gaps of a dotted line.
      r, c = int(round(r0 + t * (r1 - r0))), int(round(c0 + t * (c1 - c0)))
      if 0 <= r < h and 0 <= c < w:
        out[r, c] = value
  return out


def _dotted_line(x, count, rng):
  h, w = x.shape[:2]
  for _ in range(count):
    a, b = rng.uniform(0, h - 1, 2), rng.uniform(0, w - 1, 2)
    x = _draw(x, [(a[0], 0.0), (b[0], w - 1.0)] if rng.random() < 0.5 else
              [(0.0, a[1]), (h - 1.0, b[1])], every=2)  # fmt: skip
  return x


def _zigzag(x, count, rng):
  h, w = x.shape[:2]
  for _ in range(count):
    row, amplitude = rng.uniform(4, h - 5), rng.uniform(2, 4)
    cols = np.linspace(0, w - 1, 7)
    x = _draw(x, [(row + amplitude * (-1) ** k, c) for k, c in enumerate(cols)])
  return x


def _canny_edges(x, sigma, rng):
  from skimage import feature  # pylint: disable=g-import-not-at-top

  del rng
  edges = [feature.canny(x[..., c], sigma=sigma).astype(np.float64) for c in range(x.shape[-1])]
  return np.stack(edges, -1)


def _jpeg(x, quality, rng):
  from PIL import Image  # pylint: disable=g-import-not-at-top

  del rng
  pixels = np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)
  image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
  buffer = io.BytesIO()
  image.save(buffer, "JPEG", quality=int(quality))
  decoded = np.asarray(Image.open(buffer)).astype(np.float64) / 255.0
  return decoded.reshape(x.shape)


def _pixelate(x, factor, rng):
  from PIL import Image  # pylint: disable=g-import-not-at-top

  del rng
  h, w = x.shape[:2]
  small = (max(1, int(w * factor)), max(1, int(h * factor)))
  channels = []
  for c in range(x.shape[-1]):
    image = Image.fromarray(x[..., c].astype(np.float32), mode="F")
    image = image.resize(small, Image.BOX).resize((w, h), Image.NEAREST)
    channels.append(np.asarray(image, np.float64))
  return np.stack(channels, -1)


def _elastic(x, alpha, rng):
  """Each pixel displaced by a smooth random field of scale `alpha` pixels (Simard et al. 2003)."""
  from scipy import ndimage  # pylint: disable=g-import-not-at-top

  h, w = x.shape[:2]
  dy = ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)), 3.0) * alpha * 10
  dx = ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)), 3.0) * alpha * 10
  rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
  coords = [rows + dy, cols + dx]
  return np.stack(
    [ndimage.map_coordinates(x[..., c], coords, order=1) for c in range(x.shape[-1])], -1
  )


_FUNCTIONS = {
  "shot_noise": _shot_noise,
  "impulse_noise": _impulse_noise,
  "gaussian_noise": _gaussian_noise,
  "glass_blur": _glass_blur,
  "motion_blur": _motion_blur,
  "gaussian_blur": _gaussian_blur,
  "shear": _shear,
  "scale": _scale,
  "rotate": _rotate,
  "translate": _translate,
  "brightness": _brightness,
  "contrast": _contrast,
  "stripe": _stripe,
  "fog": _fog,
  "dotted_line": _dotted_line,
  "zigzag": _zigzag,
  "canny_edges": _canny_edges,
  "jpeg": _jpeg,
  "pixelate": _pixelate,
  "elastic": _elastic,
}

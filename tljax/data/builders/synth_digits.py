"""`synth_digits`: printed digits rendered offline from the fonts matplotlib ships.

A stand-in for SynDigits (Ganin & Lempitsky 2015's synthetic numbers), the
fifth domain of digits-five: each 28x28 RGB image is one digit in one of
matplotlib's text fonts (DejaVu Sans/Serif/Mono and their bold and oblique
faces, STIX, Computer Modern), at a random size, rotation, offset, text
colour and background colour (at least `MIN_CONTRAST` apart in grey level),
with a little Gaussian blur and pixel noise. Everything is drawn from seeded
NumPy generators, one per split, so a rebuild makes the same bytes.

  synth_digits: train 10,000, test 2,000 (classes balanced, in random order)
"""

import os

import numpy as np
import tensorflow_datasets as tfds

from tljax.data.builders import mnist

SIZE = 28
SPLITS = {"train": (10_000, 0), "test": (2_000, 1)}  # (examples, seed)
MIN_CONTRAST = 80  # Grey-level distance between text and background.
FONT_PREFIXES = ("DejaVuSans", "DejaVuSerif", "STIXGeneral", "cmr10", "cmss10", "cmtt10", "cmb10")


def font_files() -> list[str]:
  """matplotlib's bundled text fonts with digit glyphs, sorted (the same list everywhere)."""
  import matplotlib  # pylint: disable=g-import-not-at-top

  folder = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf")
  names = sorted(
    n
    for n in os.listdir(folder)
    if n.endswith(".ttf") and n.startswith(FONT_PREFIXES) and "Display" not in n  # No digits.
  )
  if not names:
    raise FileNotFoundError(f"no text font in {folder}: is matplotlib installed in full?")
  return [os.path.join(folder, n) for n in names]


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
  """(text RGB, background RGB) whose grey levels differ by at least MIN_CONTRAST."""
  while True:
    text, background = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    if abs(text.mean() - background.mean()) >= MIN_CONTRAST:
      return text, background


def render(digit: int, font_path: str, rng: np.random.Generator) -> np.ndarray:
  """One uint8 [SIZE, SIZE, 3] image of `digit`."""
  from PIL import Image, ImageDraw, ImageFilter, ImageFont  # pylint: disable=g-import-not-at-top

  text, background = _colours(rng)
  canvas = 2 * SIZE  # Drawn large and centred, turned, then cropped: no clipped corners.
  mask = Image.new("L", (canvas, canvas), 0)
  font = ImageFont.truetype(font_path, int(rng.integers(18, 27)))
  draw = ImageDraw.Draw(mask)
  left, top, right, bottom = draw.textbbox((0, 0), str(digit), font=font)
  offset = rng.integers(-3, 4, 2)
  xy = (
    (canvas - (right - left)) / 2 - left + offset[0],
    (canvas - (bottom - top)) / 2 - top + offset[1],
  )
  draw.text(xy, str(digit), fill=255, font=font)
  mask = mask.rotate(float(rng.uniform(-20, 20)), resample=Image.BICUBIC)
  mask = mask.crop((SIZE // 2, SIZE // 2, SIZE // 2 + SIZE, SIZE // 2 + SIZE))
  mask = mask.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 0.8))))
  alpha = np.asarray(mask, np.float32)[..., None] / 255.0
  image = alpha * text + (1 - alpha) * background + rng.normal(0, 6, (SIZE, SIZE, 3))
  return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def generate(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """(images uint8 [count, SIZE, SIZE, 3], labels [count]): balanced classes, shuffled."""
  rng = np.random.default_rng([seed, 7])
  fonts = font_files()
  labels = rng.permutation(np.arange(count) % 10)
  images = np.stack([render(int(d), fonts[rng.integers(len(fonts))], rng) for d in labels])
  return images, labels


class SynthDigits(tfds.core.GeneratorBasedBuilder):
  """Printed digits in matplotlib's fonts, colours and poses drawn from fixed seeds."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
      features=mnist.digit_features(3), supervised_keys=("image", "label")
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    return {
      split: self._generate_examples(*generate(n, seed)) for split, (n, seed) in SPLITS.items()
    }

  def _generate_examples(self, images, labels):
    for index, (image, label) in enumerate(zip(images, labels)):
      yield index, {"image": image, "label": int(label)}

"""Images decoded from files when a batch needs them: a lazy uint8 [N, S, S, C] array.

`FileImages` stands in for the in-memory image array of a split: `len`,
`shape`, `dtype`, indexing (which returns another lazy subset) and
`np.asarray` (which decodes). `read(rng)` decodes with training
augmentation: a random resized crop (Szegedy et al. 2015's scales 0.08-1,
aspect 3/4-4/3) and a horizontal flip, drawn from `rng`, so a batch stays a
pure function of (seed, step) and a resumed run reads the same pixels.
A batch decodes its files one after the other; grain's worker threads
(`tljax.data.streams`) decode several batches at once (PIL releases the GIL).
"""

import logging
import os

import numpy as np

from tljax.errors import DataError

log = logging.getLogger("tljax")


def decode_threads() -> int:
  """Batches decoded at once: one per CPU core."""
  return os.cpu_count() or 1


class FileImages:
  """Lazy uint8 [N, size, size, channels] images of `paths` (channels 1 or 3).

  Without `random_crop` an image is resized to size x size (as the in-memory
  path does); with it, evaluation resizes the shorter side to size / 0.875
  and takes the centre crop, and training takes random resized crops.
  """

  dtype = np.dtype(np.uint8)
  ndim = 4

  def __init__(self, paths: np.ndarray, size: int, channels: int, random_crop: bool = False):
    self.paths = np.asarray(paths, dtype=object)
    self.size, self.channels, self.random_crop = size, channels, random_crop

  @property
  def shape(self) -> tuple[int, ...]:
    return (len(self.paths), self.size, self.size, self.channels)

  def __len__(self) -> int:
    return len(self.paths)

  def __getitem__(self, index) -> "FileImages":
    paths = self.paths[index]
    if isinstance(paths, str):
      raise TypeError("index FileImages with a slice or an index array, not one integer")
    return FileImages(paths, self.size, self.channels, self.random_crop)

  def __array__(self, dtype=None, copy=None):  # pylint: disable=unused-argument
    out = self.read()
    return out if dtype is None else out.astype(dtype)

  def read(self, rng: np.random.Generator | None = None) -> np.ndarray:
    """Decoded uint8 [N, size, size, channels]; training augmentation when `rng` is given."""
    out = np.empty(self.shape, np.uint8)
    if not len(self):
      return out
    train = rng is not None and self.random_crop
    draws = rng.random((len(self), 5)) if train else [None] * len(self)

    for i in range(len(self)):
      out[i] = self._decode(self.paths[i], draws[i])
    return out

  def _decode(self, path: str, draw) -> np.ndarray:
    from PIL import Image  # pylint: disable=g-import-not-at-top

    try:
      with Image.open(path) as image:
        image.draft("RGB", (self.size, self.size))  # JPEG: decode at a reduced scale.
        image = _to_mode(image, "L" if self.channels == 1 else "RGB")
        image = self._crop(image, draw)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
      # Its header was readable when the folder was listed: say which file, keep the batch shape.
      log.warning("cannot decode %s (%s); using a black image", path, str(e)[:100])
      return np.zeros(self.shape[1:], np.uint8)
    return np.asarray(image, np.uint8).reshape(self.shape[1:])

  def _crop(self, image, draw):
    from PIL import Image  # pylint: disable=g-import-not-at-top

    s = self.size
    if not self.random_crop:
      return image.resize((s, s), Image.BILINEAR, reducing_gap=None)
    w, h = image.size
    if draw is None:  # Centre crop of the image resized to shorter side s / 0.875.
      scale = s / 0.875 / min(w, h)
      image = image.resize((max(s, round(w * scale)), max(s, round(h * scale))), Image.BILINEAR)
      left, top = (image.size[0] - s) // 2, (image.size[1] - s) // 2
      return image.crop((left, top, left + s, top + s))
    area = w * h * (0.08 + 0.92 * draw[0])
    ratio = np.exp(np.log(3 / 4) + draw[1] * (np.log(4 / 3) - np.log(3 / 4)))
    cw = int(min(w, round(np.sqrt(area * ratio))))
    ch = int(min(h, round(np.sqrt(area / ratio))))
    left, top = int(draw[2] * (w - cw + 1)), int(draw[3] * (h - ch + 1))
    left, top = min(left, w - cw), min(top, h - ch)
    image = image.resize((s, s), Image.BILINEAR, box=(left, top, left + cw, top + ch))
    return image.transpose(Image.FLIP_LEFT_RIGHT) if draw[4] < 0.5 else image


def _to_mode(image, mode: str):
  """Grey, RGB, RGBA and palette images to `mode`; transparency over white."""
  from PIL import Image  # pylint: disable=g-import-not-at-top

  if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    image = Image.alpha_composite(white, rgba)
  if image.mode in ("I", "I;16", "F"):
    image = image.point(lambda v: v / 256).convert("L") if image.mode != "F" else image.convert("L")
  return image.convert(mode)


def read(images, index: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
  """Rows `index` of an in-memory array or of `FileImages` (decoded, augmented by `rng`)."""
  if isinstance(images, FileImages):
    return images[index].read(rng)
  return images[index]


def match_channels(images: np.ndarray, channels: int) -> np.ndarray:
  """Repeats a gray channel to `channels` (gray source digits vs RGB target)."""
  have = images.shape[-1]
  if have == channels:
    return images
  if have == 1:
    return np.repeat(images, channels, axis=-1)
  raise DataError(
    f"cannot turn {have}-channel images into {channels} channels; set config.data.channels"
  )


def resize_images(images: np.ndarray, size: int, chunk: int = 4096) -> np.ndarray:
  """Bilinear (antialiased) resize of uint8 [N, H, W, C] to [N, size, size, C]."""
  import jax  # pylint: disable=g-import-not-at-top

  if images.shape[1:3] == (size, size):
    return images
  out = []
  for start in range(0, len(images), chunk):
    part = images[start : start + chunk].astype(np.float32)
    shape = (len(part), size, size, part.shape[-1])
    out.append(np.asarray(jax.image.resize(part, shape, "bilinear", antialias=True)))
  return np.clip(np.rint(np.concatenate(out)), 0, 255).astype(np.uint8)

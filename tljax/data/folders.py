"""Image and audio folders: `folder:PATH` and the benchmarks stored as class folders.

Two layouts:

  PATH/<class>/*.{png,jpg,jpeg,bmp}           one pool, split into train/test by a
                                              stratified fraction drawn with a fixed seed
  PATH/{train,test}/<class>/*.{png,...}       the splits as given

A folder whose first file of a known kind is a recording (`*.wav`, `*.flac`)
is an audio folder: its recordings are listed instead of images.

Class ids are the sorted class names (`classes.py` aligns source and target).
Files are listed once, sorted, and their headers opened: a file PIL cannot
identify is skipped with a one-line warning naming it, and counted. The
images are read only when a batch needs them (`images.FileImages`), so a
folder larger than memory streams; `pipeline.load_split` decides whether to
read it whole into memory instead.
"""

import dataclasses
import logging
import os

import numpy as np

from tljax.data import audio
from tljax.errors import DataError

log = logging.getLogger("tljax")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
PREFIX = "folder:"
SPLIT_SEED = 0  # The stratified train/test split is the same for every run seed.


@dataclasses.dataclass(frozen=True)
class Listing:
  """The image files of one split, their labels and the class names."""

  paths: np.ndarray  # [N] str
  labels: np.ndarray  # [N] int64
  class_names: tuple[str, ...]
  skipped: tuple[str, ...] = ()  # Files that are not readable images (or recordings).
  kind: str = "images"  # Or "audio".


def is_folder(name: str) -> bool:
  return name.startswith(PREFIX)


def folder_path(name: str) -> str:
  return os.path.expanduser(name[len(PREFIX) :])


def holds_audio(root: str) -> bool:
  """Whether the first image or recording under `root` (in sorted order) is a recording."""
  for dirpath, dirnames, filenames in os.walk(root):
    dirnames.sort()
    for f in sorted(filenames):
      if audio.is_audio(f):
        return True
      if f.lower().endswith(IMAGE_SUFFIXES):
        return False
  return False


def list_split(root: str, split: str, test_fraction: float = 0.2) -> Listing:
  """The files of `split` ("train" or "test") under `root`, in either layout."""
  if not os.path.isdir(root):
    raise DataError(
      f"image folder {root!r} does not exist; it must hold {root}/<class>/*.jpg "
      f"(or {root}/train/<class>/... and {root}/test/<class>/...)"
    )
  if os.path.isdir(os.path.join(root, "train")) and os.path.isdir(os.path.join(root, "test")):
    if split not in ("train", "test"):
      raise DataError(f"image folder {root!r} has the splits train and test, not {split!r}")
    classes = sorted(
      set(_class_dirs(os.path.join(root, "train"))) | set(_class_dirs(os.path.join(root, "test")))
    )
    return _listing(os.path.join(root, split), classes, holds_audio(root))
  whole = _listing(root, _class_dirs(root), holds_audio(root))
  if split == "all":
    return whole
  if split not in ("train", "test"):
    raise DataError(f"image folder {root!r} is split into train and test, not {split!r}")
  is_test = stratified_test(whole.labels, test_fraction)
  if not is_test.any() or is_test.all():
    raise DataError(
      f"image folder {root!r}: holding out config.data.test_fraction={test_fraction} of each "
      f"class leaves {'no test' if not is_test.any() else 'no training'} image (classes of "
      f"{np.bincount(whole.labels).max()} images at most); give {root}/train/<class>/... and "
      f"{root}/test/<class>/..., or more images per class"
    )
  keep = is_test == (split == "test")
  return dataclasses.replace(whole, paths=whole.paths[keep], labels=whole.labels[keep])


def list_files(files: list[tuple[str, str]], class_names: list[str]) -> Listing:
  """A listing from (path, class name) pairs, e.g. read from a benchmark's split file."""
  ids = {c: i for i, c in enumerate(class_names)}
  return _checked(
    [p for p, _ in files], [ids[c] for _, c in files], tuple(class_names), where="split file"
  )


def stratified_test(labels: np.ndarray, fraction: float) -> np.ndarray:
  """Bool [N]: True for the test part, `fraction` of every class (at least 1 of 2+)."""
  is_test = np.zeros(len(labels), bool)
  rng = np.random.default_rng(SPLIT_SEED)
  for c in np.unique(labels):
    members = np.flatnonzero(labels == c)
    n = int(round(fraction * len(members)))
    n = max(n, 1) if len(members) > 1 and fraction > 0 else n
    is_test[rng.permutation(members)[:n]] = True
  return is_test


def _class_dirs(root: str) -> list[str]:
  return sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))


def _listing(root: str, classes: list[str], is_audio: bool = False) -> Listing:
  if not classes:
    raise DataError(
      f"image folder {root!r} has no class folders; put the images in {root}/<class>/*.jpg"
    )
  paths, labels = [], []
  for label, name in enumerate(classes):
    directory = os.path.join(root, name)
    if not os.path.isdir(directory):
      continue  # A class only the other split has.
    for dirpath, dirnames, filenames in os.walk(directory):
      dirnames.sort()
      for f in sorted(filenames):
        if audio.is_audio(f) if is_audio else f.lower().endswith(IMAGE_SUFFIXES):
          paths.append(os.path.join(dirpath, f))
          labels.append(label)
  return _checked(paths, labels, tuple(classes), where=root, is_audio=is_audio)


def _image_problem(path: str) -> str | None:
  """Why PIL cannot read `path` as an image, or None (reading the header is the check)."""
  from PIL import Image  # pylint: disable=g-import-not-at-top

  try:
    with Image.open(path) as image:
      image.size  # noqa: B018
  except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
    return str(e)
  return None


def _recording_problem(path: str) -> str | None:
  """Why soundfile cannot read `path` as audio with samples, or None."""
  import soundfile  # pylint: disable=g-import-not-at-top

  try:
    if soundfile.info(path).frames == 0:
      return "no samples"
  except (RuntimeError, soundfile.LibsndfileError, OSError, ValueError) as e:
    return str(e)
  return None


def _checked(
  paths: list[str], labels: list[int], class_names: tuple, where: str, is_audio: bool = False
) -> Listing:
  """Drops (and names) the files that are not readable images (or recordings, `is_audio`)."""
  problem, noun, suffixes = (
    (_recording_problem, "recording", audio.AUDIO_SUFFIXES)
    if is_audio
    else (_image_problem, "image", IMAGE_SUFFIXES)
  )
  good, skipped = [], []
  for i, path in enumerate(paths):
    why = problem(path)
    if why is None:
      good.append(i)
    else:
      log.warning("skipping %s: not a readable %s (%s)", path, noun, why[:100])
      skipped.append(path)
  if not good:
    raise DataError(
      f"no readable {'/'.join(suffixes)} {noun}s under {where!r}"
      + (f" ({len(skipped)} files skipped)" if skipped else "")
    )
  if skipped:
    log.warning(
      "%s: skipped %d of %d files that are not readable %ss", where, len(skipped), len(paths), noun
    )
  return Listing(
    paths=np.asarray(paths, dtype=object)[good],
    labels=np.asarray(labels, np.int64)[good],
    class_names=class_names,
    skipped=tuple(skipped),
    kind="audio" if is_audio else "images",
  )


def write_split(arrays: dict, root: str, split: str, class_names: list[str]) -> int:
  """Writes uint8 images [N, H, W, C] as root/split/<class>/<i>.png; returns N."""
  from PIL import Image  # pylint: disable=g-import-not-at-top

  for i, (image, label) in enumerate(zip(arrays["input"], arrays["label"])):
    directory = os.path.join(root, split, class_names[label])
    os.makedirs(directory, exist_ok=True)
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
      os.path.join(directory, f"{i:06d}.png")
    )
  return len(arrays["label"])

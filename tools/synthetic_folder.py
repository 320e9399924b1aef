"""Writes a synthetic image-folder pair for timing the streaming input path.

    python -m tools.synthetic_folder --out /tmp/tree --train=24500 --test=500

OUT/{source,target}/{train,test}/<class>/*.jpg: `--size` px JPEGs, each a
smooth random pattern tinted by its class plus pixel noise (the target with another tint), so
`folder:OUT/source` -> `folder:OUT/target` is a learnable, shifted pair. Used
for the memory and throughput numbers in docs/data.md; writes in parallel.
"""

import multiprocessing
import os

from absl import app, flags
import numpy as np

_OUT = flags.DEFINE_string("out", None, "Root of the tree.")
_TRAIN = flags.DEFINE_integer("train", 24500, "Training images per domain.")
_TEST = flags.DEFINE_integer("test", 500, "Test images per domain.")
_CLASSES = flags.DEFINE_integer("classes", 10, "Classes.")
_SIZE = flags.DEFINE_integer("size", 224, "Image side in pixels.")
flags.mark_flags_as_required(["out"])


def write_image(job: tuple[str, int, int, int, int]) -> None:
  """One JPEG: (path, class, domain, size, seed)."""
  from PIL import Image  # pylint: disable=g-import-not-at-top

  path, label, domain, size, seed = job
  rng = np.random.default_rng(seed)
  coarse = rng.random((8, 8, 3)) * 0.5
  coarse[..., label % 3] += 0.3 + 0.05 * label  # The class tint.
  if domain:
    coarse = coarse[..., ::-1]  # The target: channels swapped.
  smooth = np.asarray(Image.fromarray((coarse * 255).astype(np.uint8)).resize((size, size)))
  noisy = smooth + rng.normal(0, 12, smooth.shape)  # Photo-like detail, photo-like file sizes.
  Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(path, quality=90)


def main(argv):
  del argv
  jobs = []
  for domain, name in enumerate(("source", "target")):
    for split, count in (("train", _TRAIN.value), ("test", _TEST.value)):
      for i in range(count):
        label = i % _CLASSES.value
        directory = os.path.join(_OUT.value, name, split, f"class_{label:02d}")
        os.makedirs(directory, exist_ok=True)
        seed = (domain * 2 + (split == "test")) * 10**7 + i
        jobs.append((os.path.join(directory, f"{i:06d}.jpg"), label, domain, _SIZE.value, seed))
  with multiprocessing.Pool() as pool:
    pool.map(write_image, jobs, chunksize=256)
  print(f"wrote {len(jobs)} {_SIZE.value}x{_SIZE.value} JPEGs under {_OUT.value}")


if __name__ == "__main__":
  app.run(main)

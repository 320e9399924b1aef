"""Prepared TFDS splits kept as numpy arrays, so that later runs read them without TensorFlow.

Reading a split through TFDS costs TensorFlow's import and tf.data's decoding
(seconds for MNIST-M, in every run and every process of a sweep). After the
first read, `pipeline.load` keeps the split's arrays, the dataset's class
names and its sample rate in `<data_dir>/tljax_arrays/<name>/<split>.<i>of<n>.npz`
with a fingerprint of the prepared dataset's files (path, size, modification
time). A later read uses them only while every prepared file is still the one
fingerprinted: a dataset prepared again, damaged or deleted is read through
TFDS again (and kept again). Splits of text (bytes of any length) are not kept.
Written atomically (`tljax.files.replacing`); a data dir that cannot be
written is read through TFDS as before. `TLJAX_KEEP_ARRAYS=0` in the
environment turns it off (nothing read or kept). Standard library and numpy only.
"""

import json
import logging
import os
import urllib.parse
import zipfile

import numpy as np

from tljax import files

log = logging.getLogger("tljax")

FOLDER = "tljax_arrays"  # Under the TFDS data dir.


def usable(data_dir: str) -> bool:
  """Arrays are kept only in a local data dir (not gs://...), unless TLJAX_KEEP_ARRAYS=0."""
  return "://" not in data_dir and os.environ.get("TLJAX_KEEP_ARRAYS", "1") != "0"


def path(data_dir: str, name: str, split: str, shard: tuple[int, int]) -> str:
  """Where `name`'s `split` (this process's `shard` of it) is kept."""
  quote = lambda text: urllib.parse.quote(text, safe="")  # noqa: E731  "train[:50%]" is a name.
  index, count = shard
  folder = os.path.join(data_dir, FOLDER, *map(quote, name.split("/")))
  return os.path.join(folder, f"{quote(split)}.{index}of{count}.npz")


def fingerprint(prepared: str) -> list:
  """[relative path, size, mtime in ns] of every file under the prepared dataset's `prepared`."""
  found = []
  for root, _, names in os.walk(prepared):
    for name in names:
      full = os.path.join(root, name)
      status = os.stat(full)
      found.append([os.path.relpath(full, prepared), status.st_size, status.st_mtime_ns])
  return sorted(found)


def read(data_dir: str, name: str, split: str, shard: tuple[int, int]):
  """(arrays, metadata) kept for this split while its prepared files are unchanged, else None."""
  kept = path(data_dir, name, split, shard)
  if not usable(data_dir) or not os.path.isfile(kept):
    return None
  try:
    with np.load(kept, allow_pickle=False) as npz:
      meta = json.loads(str(npz["meta"]))
      prepared = os.path.join(data_dir, meta["prepared"])
      if not os.path.isdir(prepared) or fingerprint(prepared) != meta["fingerprint"]:
        return None
      arrays = {key: npz[key] for key in meta["arrays"]}
  except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
    log.warning("ignoring %s, which cannot be read (%s); reading the split through TFDS", kept, e)
    return None
  return arrays, meta


def write(data_dir: str, name: str, split: str, shard, arrays: dict, prepared: str, **meta):
  """Keeps `arrays` (numeric ones only) with `prepared`'s fingerprint and `meta` (JSON values)."""
  if any(a.dtype.kind in "OSU" for a in arrays.values()):
    return  # Text: variable-length bytes, which numpy would pad or pickle.
  if not usable(data_dir) or not os.path.isdir(prepared):  # E.g. TFDS's mock data.
    return
  kept = path(data_dir, name, split, shard)
  meta = {
    **meta,
    "prepared": os.path.relpath(prepared, data_dir),
    "fingerprint": fingerprint(prepared),
    "arrays": sorted(arrays),
  }
  try:
    os.makedirs(os.path.dirname(kept), exist_ok=True)
    with files.replacing(kept) as tmp, open(tmp, "wb") as f:
      np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
  except OSError as e:  # A read-only data dir: nothing kept, nothing lost.
    log.info("could not keep %s's %s split as arrays in %s: %s", name, split, kept, e)

"""Pinned digests of the files tljax's own builders download, checked before use.

TFDS's `checksums.tsv` wants each file's size and SHA-256, which could not
be computed on the offline machine this was written on; these MD5s are the
ones torchvision pins for the same files. A mismatch (a changed or tampered
mirror) is a DataError; a file without a pinned digest is used with a
warning that gives its SHA-256, so it can be pinned here.
"""

import hashlib
import logging
import os

from tljax.errors import DataError

PINNED = {
  "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/usps.bz2": (
    "md5",
    "ec16c51db3855ca6c91edd34d0e9b197",
  ),
  "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/usps.t.bz2": (
    "md5",
    "8ea070ee2aca1ac39742fdd1ef5ed118",
  ),
  # Measured on the package from PyPI (it holds the sentiment ratings' archive).
  "https://files.pythonhosted.org/packages/source/v/vaderSentiment/vaderSentiment-3.3.2.tar.gz": (
    "sha256",
    "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9",
  ),
}


def digest(path: str, algorithm: str) -> str:
  h = hashlib.new(algorithm)
  with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
      h.update(chunk)
  return h.hexdigest()


def check(url: str, path: str) -> None:
  """DataError unless the file downloaded from `url` to `path` has its pinned digest."""
  path = os.fspath(path)
  if url not in PINNED:
    logging.getLogger("tljax").warning(
      "warning: %s has no pinned digest in tljax/data/builders/digests.py; its sha256 is %s",
      url,
      digest(path, "sha256"),
    )
    return
  algorithm, expected = PINNED[url]
  found = digest(path, algorithm)
  if found != expected:
    raise DataError(
      f"{path} (from {url}) has {algorithm} {found}, not the pinned {expected}: the download is "
      "damaged or the mirror changed; delete it from the TFDS downloads dir and retry"
    )

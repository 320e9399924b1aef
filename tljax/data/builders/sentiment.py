"""Sentences in four genres rated for sentiment (Hutto & Gilbert, ICWSM 2014).

`sentiment/tweets`, `sentiment/movies`, `sentiment/products` and
`sentiment/editorials`: each sentence was rated by about 20 people on one
scale, [-4, 4]. The label is the sign of the mean rating (0 negative,
1 positive); sentences whose mean is within `THRESHOLD` of zero are dropped as
neither. A fixed permutation (the same for every run) puts `TEST_FRACTION`
of each genre's kept sentences in `test`, the rest in `train`. The raw text
and the mean rating are kept.

The sentences ship in `hutto_ICWSM_2014.tar.gz`, inside the `vaderSentiment`
3.3.2 source package on PyPI (MIT licence). Offline, put either archive in a
directory and pass it as `config.data.manual_dir`; online, the package is
downloaded from PyPI and checked against its sha256.
"""

import io
import os
import tarfile
import zlib

import numpy as np
import tensorflow_datasets as tfds

from tljax.data.builders import digests
from tljax.errors import DataError

THRESHOLD = 0.5  # |mean rating| below this: neither positive nor negative, dropped.
TEST_FRACTION = 0.2
_SPLIT_SEED = 0
ARCHIVE = "hutto_ICWSM_2014.tar.gz"
PACKAGE = "vaderSentiment-3.3.2.tar.gz"
PACKAGE_URL = "https://files.pythonhosted.org/packages/source/v/vaderSentiment/" + PACKAGE
GENRES = {
  "tweets": "tweets_GroundTruth.txt",
  "movies": "movieReviewSnippets_GroundTruth.txt",
  "products": "amazonReviewSnippets_GroundTruth.txt",
  "editorials": "nytEditorialSnippets_GroundTruth.txt",
}


def parse_ground_truth(text: str) -> list[tuple[str, float, str]]:
  """(id, mean rating, sentence) per line of `id <TAB> mean <TAB> sentence`."""
  rows = []
  for number, line in enumerate(text.splitlines(), 1):
    if not line.strip():
      continue
    parts = line.rstrip("\r").split("\t")
    if len(parts) < 3:
      raise ValueError(f"line {number} has {len(parts)} tab-separated fields, expected 3")
    rows.append((parts[0], float(parts[1]), "\t".join(parts[2:]).strip()))
  return rows


def labelled(rows, threshold: float = THRESHOLD) -> list[tuple[str, float, str, int]]:
  """Rows rated at least `threshold` away from zero, with label 1 if positive."""
  return [(i, r, s, int(r > 0)) for i, r, s in rows if abs(r) >= threshold]


def split_rows(rows: list, split: str) -> list:
  """The rows of `split` ("train" or "test"), by a fixed permutation."""
  order = np.random.default_rng(_SPLIT_SEED).permutation(len(rows))
  num_test = int(round(TEST_FRACTION * len(rows)))
  chosen = order[:num_test] if split == "test" else order[num_test:]
  return [rows[i] for i in np.sort(chosen)]


def read_genre(path: str, genre: str) -> str:
  """A genre's ground-truth file from `hutto_ICWSM_2014.tar.gz` or the PyPI package."""
  with tarfile.open(path) as archive:
    names = {os.path.basename(m.name): m for m in archive.getmembers()}
    if ARCHIVE in names:  # The PyPI package: the ratings are in a nested archive.
      inner = archive.extractfile(names[ARCHIVE]).read()
      with tarfile.open(fileobj=io.BytesIO(inner)) as nested:
        return read_member(nested, GENRES[genre], path)
    return read_member(archive, GENRES[genre], path)


def read_member(archive: tarfile.TarFile, basename: str, where: str) -> str:
  for member in archive.getmembers():
    if os.path.basename(member.name) == basename:
      return archive.extractfile(member).read().decode("utf-8", errors="replace")
  raise ValueError(f"{where} holds no {basename}")


def find_archive(manual_dir: str | None) -> str | None:
  """The archive (or the PyPI package holding it) in `manual_dir`, if there is one."""
  for name in (ARCHIVE, PACKAGE):
    path = os.path.join(manual_dir, name) if manual_dir else ""
    if path and os.path.exists(path):
      return path
  return None


class Sentiment(tfds.core.GeneratorBasedBuilder):
  """Binary sentiment of sentences in four genres; configs name the genre."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=genre) for genre in GENRES]
  MANUAL_DOWNLOAD_INSTRUCTIONS = f"Optional: put {ARCHIVE} (or {PACKAGE}) in the manual dir."

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
      features=tfds.features.FeaturesDict(
        {
          "text": tfds.features.Text(),
          "label": tfds.features.ClassLabel(names=["negative", "positive"]),
          "rating": np.float32,
          "id": tfds.features.Text(),
        }
      ),
      supervised_keys=("text", "label"),
      homepage="https://github.com/cjhutto/vaderSentiment",
      citation="Hutto, C.J. & Gilbert, E.E. (2014). VADER. ICWSM-14.",
    )

  def _split_generators(self, dl_manager):
    try:
      manual_dir = os.fspath(dl_manager.manual_dir)
    except AssertionError:  # TFDS: no manual dir given, or it does not exist.
      manual_dir = None
    path = find_archive(manual_dir)
    if path is None:
      try:
        path = os.fspath(dl_manager.download(PACKAGE_URL))
      except Exception as e:  # pylint: disable=broad-except  (offline: say what to pass)
        raise AssertionError(
          f"no {ARCHIVE} or {PACKAGE} in the manual dir {manual_dir!r} and the download "
          f"failed ({type(e).__name__}); offline, pass --config.data.manual_dir=DIR with {ARCHIVE}"
        ) from None
      digests.check(PACKAGE_URL, path)
    try:
      text = read_genre(path, self.builder_config.name)
      rows = labelled(parse_ground_truth(text))
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError) as e:
      first = (str(e).strip().splitlines() or [""])[0][:120]
      raise DataError(
        f"{path} cannot be read as the sentiment archive ({type(e).__name__}: {first}); put "
        f"an intact {ARCHIVE} (or {PACKAGE}) there"
      ) from None
    return {split: self._generate_examples(split_rows(rows, split)) for split in ("train", "test")}

  def _generate_examples(self, rows):
    for sentence_id, rating, sentence, label in rows:
      yield sentence_id, {"text": sentence, "label": label, "rating": rating, "id": sentence_id}

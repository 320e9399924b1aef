"""Downloads are checked against pinned digests before use."""

import hashlib
import logging

import pytest

from tljax.data.builders import digests
from tljax.errors import DataError


def test_a_pinned_file_must_match_and_an_unpinned_one_is_named(tmp_path, monkeypatch, caplog):
  path = tmp_path / "usps.bz2"
  path.write_bytes(b"the real file")
  url = "https://example.org/usps.bz2"
  monkeypatch.setitem(digests.PINNED, url, ("md5", hashlib.md5(b"the real file").hexdigest()))
  digests.check(url, str(path))  # Matches: no error.
  path.write_bytes(b"a tampered file")
  with pytest.raises(DataError, match="not the pinned"):
    digests.check(url, str(path))
  with caplog.at_level(logging.WARNING, logger="tljax"):
    digests.check("http://example.org/other.tgz", str(path))
  assert hashlib.sha256(b"a tampered file").hexdigest() in caplog.text


def test_the_usps_files_are_pinned():
  assert all(url.startswith("https://") for url in digests.PINNED)
  assert sum("usps" in url for url in digests.PINNED) == 2

"""Sentences -> model input: bags of n-grams or token ids, numpy only.

The vocabulary is fitted on the unlabelled training text of both domains
(never on test text or labels), as in the DANN paper's review experiment
(Ganin et al. 2016, section 5.1.1: unigrams and bigrams, the 5,000 most
frequent). Everything is deterministic: the same texts give the same
vocabulary, ids and vectors, so batches stay a pure function of the step.
"""

import collections
import dataclasses
import math
import re

import ml_collections
import numpy as np

from tljax.errors import ConfigError

PAD, UNKNOWN = 0, 1  # Token ids; words start at 2.
REPRESENTATIONS = ("bag", "tokens")
WEIGHTINGS = ("binary", "tfidf")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]")


def defaults() -> ml_collections.ConfigDict:
  """`config.data.text`: how sentences become model input."""
  return ml_collections.ConfigDict(
    {
      "representation": "bag",  # "bag" of n-grams (vectors) or "tokens" (id sequences).
      "vocab_size": 5000,  # Most frequent n-grams (bag) or words (tokens) kept.
      "ngrams": 2,  # bag: unigrams .. n-grams.
      "weighting": "binary",  # bag: "binary" presence or "tfidf" (L2-normalised rows).
      "max_len": 48,  # tokens: sequences cut or padded to this many ids.
      "strong_drop": 0.1,  # Strong views (self_training): each n-gram or token dropped w.p.
    }
  )


def check(text: ml_collections.ConfigDict) -> None:
  """ConfigError naming the first field of `config.data.text` that cannot work."""
  choices = {"representation": REPRESENTATIONS, "weighting": WEIGHTINGS}
  for field, valid in choices.items():
    if text[field] not in valid:
      raise ConfigError(
        f"config.data.text.{field}={text[field]!r} is unknown; choose one of {list(valid)}"
      )
  for field in ("vocab_size", "ngrams", "max_len"):
    if not isinstance(text[field], int) or text[field] < 1:
      raise ConfigError(f"config.data.text.{field}={text[field]!r} must be an integer >= 1")


def tokenize(sentence: bytes | str) -> list[str]:
  """Lower-cased words (with their apostrophe part) and ! and ?."""
  if isinstance(sentence, bytes):
    sentence = sentence.decode("utf-8", errors="replace")
  return _TOKEN.findall(sentence.lower())


def ngrams(words: list[str], n: int) -> list[str]:
  return [" ".join(words[i : i + k]) for k in range(1, n + 1) for i in range(len(words) - k + 1)]


@dataclasses.dataclass(frozen=True)
class Vectorizer:
  """A fitted vocabulary and the way it turns sentences into arrays."""

  vocabulary: dict[str, int]  # Term -> column (bag) or id - 2 (tokens).
  idf: np.ndarray  # [V] inverse document frequency on the fitting texts.
  config: ml_collections.ConfigDict

  @property
  def input_dim(self) -> int:
    """Vector size (bag) or number of ids including PAD and UNKNOWN (tokens)."""
    extra = 2 if self.config.representation == "tokens" else 0
    return self.config.vocab_size + extra

  def terms(self, sentence) -> list[str]:
    n = self.config.ngrams if self.config.representation == "bag" else 1
    return ngrams(tokenize(sentence), n)

  def __call__(self, sentences) -> np.ndarray:
    """float32 [N, vocab_size] (bag) or int32 [N, max_len] (tokens)."""
    if self.config.representation == "tokens":
      ids = np.full((len(sentences), self.config.max_len), PAD, np.int32)
      for row, sentence in enumerate(sentences):
        words = self.terms(sentence)[: self.config.max_len]
        ids[row, : len(words)] = [self.vocabulary.get(w, UNKNOWN - 2) + 2 for w in words]
      return ids
    out = np.zeros((len(sentences), self.config.vocab_size), np.float32)
    for row, sentence in enumerate(sentences):
      counts = collections.Counter(self.terms(sentence))
      for term, count in counts.items():
        if term in self.vocabulary:
          out[row, self.vocabulary[term]] = count
    if self.config.weighting == "binary":
      return (out > 0).astype(np.float32)
    out *= self.idf
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


def fit(sentences, config: ml_collections.ConfigDict) -> Vectorizer:
  """The `vocab_size` terms in most sentences (ties: alphabetical), and their idf."""
  check(config)
  probe = Vectorizer({}, np.zeros(0), config)
  document_frequency = collections.Counter()
  for sentence in sentences:
    document_frequency.update(set(probe.terms(sentence)))
  ranked = sorted(document_frequency.items(), key=lambda item: (-item[1], item[0]))
  kept = ranked[: config.vocab_size]
  vocabulary = {term: i for i, (term, _) in enumerate(kept)}
  n = len(sentences)
  idf = np.zeros(config.vocab_size, np.float32)
  for term, i in vocabulary.items():
    idf[i] = math.log((1 + n) / (1 + document_frequency[term])) + 1.0
  return Vectorizer(vocabulary, idf, config)

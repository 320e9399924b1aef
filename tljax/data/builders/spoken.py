"""Spoken words in three domains, synthesised offline by espeak-ng: `spoken_digits/<domain>`.

Two vocabularies, one builder each: `spoken_digits` ("zero" .. "nine") and
`spoken_commands` (yes, no, up, down, left, right, on, off, stop, go). Three
domains, each a builder config:

  us_clean       American-English accents (en-us, en-us-nyc), the default
                 and male voice variants (+m1 .. +m7), clean;
  accents_clean  the other English accents (British, Scottish, RP,
                 Lancastrian, West Midlands, Caribbean) with the female and
                 other variants (+f1 .. +f5, croak, whisper, klatt, ...), clean;
  accents_noisy  the same utterances as accents_clean, each recorded under a
                 condition drawn from a fixed seed: white, pink, brown or
                 babble noise at 0-20 dB SNR, a telephone line (8 kHz,
                 300-3400 Hz) with probability 1/2, a synthetic room (RT60
                 0.2-0.8 s) with probability 1/2 (`synthesis.py`).

Each utterance draws its voice (accent, variant, pitch 25-75, rate 130-200
words/min) and its place in the one-second clip from a generator seeded by
(domain, word, index), so a build is the same bytes every time and on every
machine with the same espeak-ng. 16 kHz mono int16, one second: the audio
feature is [16000]. Per word 240 train and 60 test utterances (2,400 and 600
per domain). espeak-ng's version and the generation parameters are in the
dataset's metadata (`builder.info.metadata`).
"""

import concurrent.futures
import dataclasses
import os

import numpy as np
import tensorflow_datasets as tfds

from tljax.data import audio
from tljax.data.builders import synthesis

SAMPLE_RATE = 16000
NUM_SAMPLES = 16000
WORDS = {
  "digits": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
  "commands": ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"),
}
US_ACCENTS = ("en-us", "en-us-nyc")
US_VARIANTS = ("", "m1", "m2", "m3", "m4", "m5", "m6", "m7")
OTHER_ACCENTS = (
  "en-gb",
  "en-gb-scotland",
  "en-gb-x-rp",
  "en-gb-x-gbclan",
  "en-gb-x-gbcwmd",
  "en-029",
)
OTHER_VARIANTS = (
  "f1",
  "f2",
  "f3",
  "f4",
  "f5",
  "croak",
  "whisper",
  "klatt",
  "klatt3",
  "Annie",
  "linda",
)
PITCH = (25, 75)
RATE = (130, 200)
SEED = 2026
BABBLE_VOICES = 40  # Utterances summed (a few at a time) into babble noise.


@dataclasses.dataclass
class SpokenConfig(tfds.core.BuilderConfig):
  """One domain: its voices, whether it is recorded under noisy conditions, its size."""

  accents: tuple[str, ...] = US_ACCENTS
  variants: tuple[str, ...] = US_VARIANTS
  voice_seed: int = 0  # accents_noisy shares accents_clean's voices (and so its utterances).
  noisy: bool = False
  train_per_word: int = 240
  test_per_word: int = 60


DOMAINS = (
  SpokenConfig(name="us_clean", description="American-English male voices, clean."),
  SpokenConfig(
    name="accents_clean",
    description="Other English accents, female and other voices, clean.",
    accents=OTHER_ACCENTS,
    variants=OTHER_VARIANTS,
    voice_seed=1,
  ),
  SpokenConfig(
    name="accents_noisy",
    description="accents_clean's utterances under noise, telephone and room conditions.",
    accents=OTHER_ACCENTS,
    variants=OTHER_VARIANTS,
    voice_seed=1,
    noisy=True,
  ),
)


def draw_voice(config: SpokenConfig, rng: np.random.Generator) -> synthesis.Voice:
  return synthesis.Voice(
    accent=config.accents[rng.integers(len(config.accents))],
    variant=config.variants[rng.integers(len(config.variants))],
    pitch=int(rng.integers(PITCH[0], PITCH[1] + 1)),
    rate=int(rng.integers(RATE[0], RATE[1] + 1)),
  )


def utterance_index(config: SpokenConfig, split: str) -> list[int]:
  """The indices of a word's utterances in `split`: train first, then test."""
  if split == "train":
    return list(range(config.train_per_word))
  return list(range(config.train_per_word, config.train_per_word + config.test_per_word))


class _Spoken(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """The builder of one vocabulary (`VOCABULARY`), over the three domains."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  BUILDER_CONFIGS = list(DOMAINS)
  VOCABULARY = "digits"

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
      features=tfds.features.FeaturesDict(
        {
          "audio": tfds.features.Audio(
            shape=(NUM_SAMPLES,), dtype=np.int16, sample_rate=SAMPLE_RATE
          ),
          "label": tfds.features.ClassLabel(names=list(WORDS[self.VOCABULARY])),
          "voice": tfds.features.Text(),  # espeak-ng's arguments for this utterance.
          "condition": tfds.features.Text(),  # The recording condition ("clean" or its draw).
        }
      ),
      supervised_keys=("audio", "label"),
      homepage="https://github.com/espeak-ng/espeak-ng",
      metadata=tfds.core.MetadataDict(),
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Synthesised: nothing to download.
    self.info.metadata.update(self._metadata())
    babble = self._babble() if self.builder_config.noisy else []
    return {split: self._generate_examples(split, babble) for split in ("train", "test")}

  def _metadata(self) -> dict:
    c = self.builder_config
    return {
      "espeak_ng_version": synthesis.version(),
      "words": list(WORDS[self.VOCABULARY]),
      "accents": list(c.accents),
      "variants": list(c.variants),
      "pitch": list(PITCH),
      "rate_words_per_minute": list(RATE),
      "sample_rate": SAMPLE_RATE,
      "num_samples": NUM_SAMPLES,
      "noisy": c.noisy,
      "noises": list(synthesis.NOISES) if c.noisy else [],
      "train_per_word": c.train_per_word,
      "test_per_word": c.test_per_word,
      "seed": SEED,
    }

  def _babble(self) -> list[np.ndarray]:
    """Clean utterances of the vocabulary in this domain's voices, for babble noise."""
    rng = np.random.default_rng([SEED, 99, self.builder_config.voice_seed])
    words = WORDS[self.VOCABULARY]
    jobs = [(words[rng.integers(len(words))], draw_voice(self.builder_config, rng)) for _ in
            range(BABBLE_VOICES)]  # fmt: skip
    clips = _map(lambda job: synthesis.render(job[0], job[1], SAMPLE_RATE), jobs)
    return [audio.fit_length(c, NUM_SAMPLES) for c in clips]

  def _generate_examples(self, split: str, babble: list[np.ndarray]):
    config = self.builder_config
    jobs = [(w, i) for w in range(len(WORDS[self.VOCABULARY])) for i in
            utterance_index(config, split)]  # fmt: skip
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
      examples = pool.map(lambda job: self._example(*job, babble), jobs)
      for (word, i), example in zip(jobs, examples):
        yield f"{word}_{i}", example

  def _example(self, word: int, index: int, babble: list[np.ndarray]) -> dict:
    config = self.builder_config
    rng = np.random.default_rng([SEED, config.voice_seed, word, index])
    voice = draw_voice(config, rng)
    clip = synthesis.render(WORDS[self.VOCABULARY][word], voice, SAMPLE_RATE)
    clip = audio.fit_length(clip, NUM_SAMPLES, offset=int(rng.integers(NUM_SAMPLES)))
    condition = "clean"
    if config.noisy:
      noise_rng = np.random.default_rng([SEED, 7, config.voice_seed, word, index])
      drawn = synthesis.draw_condition(noise_rng)
      parts = noise_rng.choice(len(babble), 4, replace=False)
      clip = synthesis.apply(clip, drawn, SAMPLE_RATE, noise_rng, [babble[p] for p in parts])
      condition = (
        f"{drawn.noise} noise at {drawn.snr_db:.1f} dB SNR"
        + (", telephone" if drawn.telephone else "")
        + (f", room RT60 {drawn.rt60:.2f} s" if drawn.rt60 else "")
      )
    return {
      "audio": audio.to_int16(clip),
      "label": word,
      "voice": " ".join(voice.arguments()),
      "condition": condition,
    }


def _map(fn, jobs: list) -> list:
  """fn over jobs on a thread per core (espeak-ng runs as a subprocess), in order."""
  with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
    return list(pool.map(fn, jobs))


class SpokenDigits(_Spoken):
  """The ten digit words, "zero" .. "nine", in the three domains."""

  VOCABULARY = "digits"


class SpokenCommands(_Spoken):
  """Ten command words (yes, no, up, down, left, right, on, off, stop, go), three domains."""

  VOCABULARY = "commands"

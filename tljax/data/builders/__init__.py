"""TFDS builders for datasets missing from the catalog.

Importing this package registers them with TFDS (`tfds.builder("digits_m")`,
`tfds.builder("mnist_m/offline")`, `tfds.builder("usps")`,
`tfds.builder("sentiment/tweets")`, `tfds.builder("spoken_digits/us_clean")`,
`tfds.builder("rotated_mnist/15")`, `tfds.builder("colored_mnist/plus90")`,
`tfds.builder("synth_digits")`). `MnistFromIdx` is
not registered: it prepares TFDS's own `mnist` from local IDX files.
"""

from tljax.data.builders.corrupted import MnistCorruptions, MnistMCorruptions
from tljax.data.builders.digits import Digits, DigitsM
from tljax.data.builders.domainbed_mnist import ColoredMnist, RotatedMnist
from tljax.data.builders.mnist import MnistFromIdx
from tljax.data.builders.mnist_m import MnistM
from tljax.data.builders.sentiment import Sentiment
from tljax.data.builders.spoken import SpokenCommands, SpokenDigits
from tljax.data.builders.synth_digits import SynthDigits
from tljax.data.builders.usps import Usps

__all__ = [
  "ColoredMnist",
  "Digits",
  "DigitsM",
  "MnistCorruptions",
  "MnistFromIdx",
  "MnistM",
  "MnistMCorruptions",
  "RotatedMnist",
  "Sentiment",
  "SpokenCommands",
  "SpokenDigits",
  "SynthDigits",
  "Usps",
]

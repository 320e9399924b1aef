"""Model registry: `build_classifier(model_config, num_classes)`.

Methods build their own extra networks (domain discriminators, second heads)
from the modules here and the same `config.model` section.
"""

import flax.linen as nn
import ml_collections

from tljax.errors import ConfigError
from tljax.models.audio import AudioConvNet, LogMel
from tljax.models.backbones import DigitsConvNet
from tljax.models.conv import IMPLS
from tljax.models.domainbed import DomainBedMnistNet
from tljax.models.heads import STYLES, Classifier
from tljax.models.heads import output_layer as _output_layer
from tljax.models.resnet import ResNet
from tljax.models.text import BagOfWordsNet, TokenConvNet
from tljax.models.tiny import TinyConvNet

BACKBONES = {
  "digits_net": DigitsConvNet,
  "tiny": TinyConvNet,
  "resnet18": ResNet,
  "resnet34": ResNet,
  "resnet50": ResNet,
  "text_bag": BagOfWordsNet,
  "text_conv": TokenConvNet,
  "audio_conv": AudioConvNet,
  "domainbed_mnist": DomainBedMnistNet,
}
TEXT_MODELS = {"text_bag": "bag", "text_conv": "tokens"}  # Name -> config.data.text.representation.
AUDIO_MODELS = ("audio_conv",)
CHOICES = {
  "input_norm": ("scale", "per_image", "imagenet"),
  "norm": ("none", "batch"),
  "stem": ("imagenet", "small"),
  "conv_impl": IMPLS,
  "head": STYLES,
}


def modality(name: str) -> str:
  """What model `name` reads: "text", "audio" or "images" (any unknown name: images)."""
  return "text" if name in TEXT_MODELS else "audio" if name in AUDIO_MODELS else "images"


def audio_defaults() -> ml_collections.ConfigDict:
  """`config.model.audio`: the log-mel front end and the conv widths (tljax/models/audio.py)."""
  return ml_collections.ConfigDict(
    {
      "sample_rate": 16000,  # Must equal config.data.audio.sample_rate.
      "n_fft": 400,  # 25 ms windows at 16 kHz.
      "hop": 160,  # 10 ms between frames.
      "n_mels": 40,
      "fmin": 20.0,
      "floor": 1e-6,  # log(max(mel power, floor)).
      "widths": (16, 32, 64),  # Output channels of the 3x3 conv blocks.
    }
  )


def check_audio(model: ml_collections.ConfigDict) -> None:
  """ConfigError naming the first field of `config.model.audio` that cannot work."""
  if "audio" not in model:
    raise ConfigError(
      f"config.model.name={model.name!r} needs a config.model.audio section "
      "(tljax.models.audio_defaults(); see configs/spoken_digits.py)"
    )
  a = model.audio
  for field in ("sample_rate", "n_fft", "hop", "n_mels"):
    if not isinstance(a[field], int) or a[field] < 1:
      raise ConfigError(f"config.model.audio.{field}={a[field]!r} must be an integer >= 1")
  if not 0 <= a.fmin < a.sample_rate / 2:
    raise ConfigError(
      f"config.model.audio.fmin={a.fmin!r} must be in [0, sample_rate / 2 = {a.sample_rate / 2})"
    )
  if a.n_mels > a.n_fft // 2 + 1:
    raise ConfigError(
      f"config.model.audio.n_mels={a.n_mels} must be <= n_fft // 2 + 1 = {a.n_fft // 2 + 1} "
      "(mel bands beyond the FFT's bins would be empty)"
    )
  if not a.widths or any(not isinstance(w, int) or w < 1 for w in a.widths):
    raise ConfigError(f"config.model.audio.widths={a.widths!r} must be positive integers")


def check_choice(section: str, field: str, value, valid) -> None:
  """Raises ConfigError naming `config.section.field` unless value is valid."""
  if value not in valid:
    raise ConfigError(
      f"config.{section}.{field}={value!r} is unknown; choose one of {sorted(valid)}"
    )


RENAMED = {"dann_digits": "digits_net"}  # Model names changed since, for a one-line error.


def build_classifier(model: ml_collections.ConfigDict, num_classes: int) -> nn.Module:
  """The classifier (backbone + head) for the `config.model` section.

  `model.norm` ("none" or "batch") applies to the backbone and the label
  predictor (and to methods' extra networks); "none" is the paper's network.
  """
  if model.name in RENAMED:
    raise ConfigError(
      f"config.model.name={model.name!r} is now {RENAMED[model.name]!r} (the DANN paper's "
      "digits network, which every method uses); use that name"
    )
  check_choice("model", "name", model.name, BACKBONES)
  for field, valid in CHOICES.items():
    check_choice("model", field, model[field], valid)
  if model.head == "bottleneck" and not model.head_hidden:
    raise ConfigError(
      "config.model.head='bottleneck' needs one: config.model.head_hidden=() must name at "
      "least one width (SHOT's: (256,))"
    )
  if model.name == "text_bag":
    backbone = BagOfWordsNet(hidden=model.text_hidden)
  elif model.name == "text_conv":
    backbone = TokenConvNet(vocab_size=model.vocab_size, width=model.text_hidden)
  elif model.name == "audio_conv":
    check_audio(model)
    a = model.audio
    front_end = LogMel(a.sample_rate, a.n_fft, a.hop, a.n_mels, a.fmin, floor=a.floor)
    backbone = AudioConvNet(front_end=front_end, widths=tuple(a.widths), norm=model.norm)
  elif model.name == "tiny":
    backbone = TinyConvNet(input_norm=model.input_norm)
  elif model.name == "domainbed_mnist":
    backbone = DomainBedMnistNet(input_norm=model.input_norm)
  elif model.name.startswith("resnet"):  # Always BatchNorm, whatever model.norm says.
    backbone = ResNet(
      depth=int(model.name[6:]),
      width=model.width,
      input_norm=model.input_norm,
      small_inputs=model.stem == "small",
    )
  else:
    backbone = DigitsConvNet(
      input_norm=model.input_norm, norm=model.norm, conv_impl=model.conv_impl
    )
  return Classifier(
    backbone=backbone,
    num_classes=num_classes,
    hidden=tuple(model.head_hidden),
    dropout=model.dropout,
    norm=model.norm,
    freeze_backbone=model.freeze_backbone,
    head_style=model.head,
  )


def output_layer(model: ml_collections.ConfigDict) -> str:
  """The module name of the classifier's output layer (the hypothesis) inside its head."""
  return _output_layer(tuple(model.head_hidden), model.head)

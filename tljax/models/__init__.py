"""Model registry: `build_classifier(model_config, num_classes)`.

Methods build their own extra networks (domain discriminators, second heads)
from the modules here and the same `config.model` section.
"""

import flax.linen as nn
import ml_collections

from tljax.errors import ConfigError
from tljax.models.backbones import DigitsConvNet
from tljax.models.conv import IMPLS
from tljax.models.heads import Classifier
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
}
TEXT_MODELS = {"text_bag": "bag", "text_conv": "tokens"}  # Name -> config.data.text.representation.
CHOICES = {
  "input_norm": ("scale", "per_image", "imagenet"),
  "norm": ("none", "batch"),
  "stem": ("imagenet", "small"),
  "conv_impl": IMPLS,
}


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
  if model.name == "text_bag":
    backbone = BagOfWordsNet(hidden=model.text_hidden)
  elif model.name == "text_conv":
    backbone = TokenConvNet(vocab_size=model.vocab_size, width=model.text_hidden)
  elif model.name == "tiny":
    backbone = TinyConvNet(input_norm=model.input_norm)
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
  )

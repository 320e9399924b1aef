"""Model registry: `build_models(model_config, num_classes)`."""

import flax.linen as nn
import ml_collections

from tljax.errors import ConfigError
from tljax.models.backbones import DigitsConvNet
from tljax.models.discriminator import DomainDiscriminator
from tljax.models.heads import Classifier
from tljax.models.tiny import TinyConvNet

BACKBONES = {"dann_digits": DigitsConvNet, "tiny": TinyConvNet}
INPUT_NORMS = ("scale", "per_image")
NORMS = ("none", "batch")


def build_models(model: ml_collections.ConfigDict, num_classes: int) -> tuple[nn.Module, nn.Module]:
  """Returns (classifier, discriminator) for the `config.model` section."""
  if model.name not in BACKBONES:
    raise ConfigError(
      f"config.model.name={model.name!r} is unknown; choose one of {sorted(BACKBONES)}"
    )
  if model.input_norm not in INPUT_NORMS:
    raise ConfigError(
      f"config.model.input_norm={model.input_norm!r} is unknown; choose one of {list(INPUT_NORMS)}"
    )
  if model.name == "tiny":
    backbone = TinyConvNet(input_norm=model.input_norm)
  else:
    if model.norm not in NORMS:
      raise ConfigError(f"config.model.norm={model.norm!r} is unknown; choose one of {list(NORMS)}")
    backbone = DigitsConvNet(input_norm=model.input_norm, norm=model.norm)
  classifier = Classifier(
    backbone=backbone,
    num_classes=num_classes,
    hidden=tuple(model.head_hidden),
    dropout=model.dropout,
  )
  discriminator = DomainDiscriminator(
    hidden=tuple(model.discriminator_hidden), dropout=model.dropout
  )
  return classifier, discriminator

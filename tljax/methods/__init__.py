"""Transfer methods, one file each, found by name (`config.method.name`).

A module in this package that defines a class `Method` (a subclass of
`tljax.core.Method`, the interface) is a method named after its file: adding
one is adding a file, with no registry to edit. This package holds methods
only; their interface and step are in `tljax.core`, shared maths in
`tljax.losses`.
"""

import dataclasses
import importlib
import pkgutil

import ml_collections

from tljax import core
from tljax.data import domains
from tljax.errors import ConfigError


def names() -> list[str]:
  """Every method in this package, sorted."""
  found = []
  for info in pkgutil.iter_modules(__path__):
    if not info.name.startswith("_") and _is_method(_module(info.name)):
      found.append(info.name)
  return sorted(found)


def find(name: str) -> type[core.Method]:
  """The `Method` class of `tljax/methods/<name>.py`; ConfigError if there is none."""
  module = _module(name) if isinstance(name, str) and name.isidentifier() else None
  if not _is_method(module):
    raise ConfigError(f"config.method.name={name!r} is unknown; choose one of {names()}")
  return module.Method


def build(setup: core.Setup, name: str) -> core.Method:
  """The method `name` on the run `setup` describes (for runs, and methods that wrap one)."""
  cls = find(name)
  if cls.pretrained and not (setup.model.init_checkpoint or setup.model.torch_weights):
    raise ConfigError(
      f"method {name!r} fine-tunes from pretrained weights: set config.model.init_checkpoint "
      "to a finished run (or model.torch_weights), as experiments.finetune does"
    )
  return cls.create(dataclasses.replace(setup, name=name))


def create(
  config: ml_collections.ConfigDict, num_classes: int, input_shape=None, unknown: bool = False
) -> core.Method:
  """The method `config.method.name`, built and checked against `config`."""
  shape = None if input_shape is None else tuple(input_shape)
  sources = len(domains.names(config.data.source)) if "data" in config else 1
  setup = core.Setup(
    "", config.method, config.model, num_classes, config.train.num_steps, shape, unknown, sources
  )
  return build(setup, config.method.name)


def config_section(name: str = "dann") -> ml_collections.ConfigDict:
  """`config.method`: the chosen `name` plus every method's settings at their defaults.

  `--config.method.name=coral --config.method.coral.trade_off=2` picks a
  method and sets its fields; each method's file documents them and its recipe.
  """
  section = ml_collections.ConfigDict({"name": name})
  for method in names():
    section[method] = core.settings(find(method))
  return section


def _is_method(module) -> bool:
  method = getattr(module, "Method", None)
  return isinstance(method, type) and issubclass(method, core.Method) and method is not core.Method


def _module(name: str):
  try:
    return importlib.import_module(f"{__name__}.{name}")
  except ModuleNotFoundError as e:
    if e.name != f"{__name__}.{name}":
      raise
    return None

"""Transfer methods, one file each, found by name (`config.method.name`).

A module in this package that defines a class `Method` (a subclass of
`tljax.methods.base.Method`, the interface) is a method named after its file:
adding one is adding a file, with no registry to edit. The other modules hold
the interface and shared update (`base`, `update`) and shared maths (`grl`,
`schedules`, `kernels`, `augment`, `classification`).
"""

import importlib
import pkgutil

from tljax.errors import ConfigError


def names() -> list[str]:
  """Every method in this package, sorted."""
  found = []
  for info in pkgutil.iter_modules(__path__):
    if not info.name.startswith("_") and _is_method(_module(info.name)):
      found.append(info.name)
  return sorted(found)


def find(name: str):
  """The `Method` class of `tljax/methods/<name>.py`; ConfigError if there is none."""
  module = _module(name) if name.isidentifier() else None
  if not _is_method(module):
    raise ConfigError(f"config.method.name={name!r} is unknown; choose one of {names()}")
  return module.Method


def _is_method(module) -> bool:
  """Whether `module` defines a `Method` (base.py's own is the interface, not a method)."""
  from tljax.methods import base  # pylint: disable=g-import-not-at-top  (base imports us)

  method = getattr(module, "Method", None)
  return isinstance(method, type) and issubclass(method, base.Method) and method is not base.Method


def _module(name: str):
  try:
    return importlib.import_module(f"{__name__}.{name}")
  except ModuleNotFoundError as e:
    if e.name != f"{__name__}.{name}":
      raise
    return None

"""The pure core: the method interface, the train and eval steps, state, optimizer, placement.

Method files import what they declare and compute with from here:
`core.Method`, `core.setting`, the rules (`core.NON_NEGATIVE`, ...), the
stream names (`core.SOURCE`, ...), `core.supervised` and `core.Forward`.
"""

from tljax.core.method import (
  BOOL,
  LABELLED,
  NON_NEGATIVE,
  NON_NEGATIVE_INT,
  POSITIVE,
  POSITIVE_INT,
  PROBABILITY,
  SOURCE,
  TARGET,
  TARGET_LABELLED,
  WIDTHS,
  Extras,
  Method,
  Prepared,
  Setup,
  Start,
  augmented_streams,
  init_network,
  model_field,
  one_of,
  prepare,
  setting,
  settings,
  supervised,
)
from tljax.core.step import Forward, Step

__all__ = [
  "BOOL",
  "LABELLED",
  "NON_NEGATIVE",
  "NON_NEGATIVE_INT",
  "POSITIVE",
  "POSITIVE_INT",
  "PROBABILITY",
  "SOURCE",
  "TARGET",
  "TARGET_LABELLED",
  "WIDTHS",
  "Extras",
  "Forward",
  "Method",
  "Prepared",
  "Setup",
  "Start",
  "Step",
  "augmented_streams",
  "init_network",
  "model_field",
  "one_of",
  "prepare",
  "setting",
  "settings",
  "supervised",
]

"""Random hyperparameter search as DomainBed draws it: trial 0 is every default, trial k > 0
draws each searched setting from its distribution, seeded by (method, trial).

The distributions are DomainBed's for its MNIST datasets (domainbed/hparams_registry.py),
where tljax has the setting: the learning rate and each method's own weights (its `searched`
class attribute, beside the settings in its file). DomainBed draws
the learning rate as 10^U(-4.5, -2.5) around Adam's 1e-3; here it is the recipe's own rate
times 10^U(-1.5, 0.5), the same draw for DomainBed's recipe (`domainbed`: Adam at 1e-3) and
scaled to another optimiser's (the CPU recipe's SGD). The batch size is not searched (each
step holds an equal share of every source; `data.batch_size`). The same trial number gives
the same settings for every test environment and seed, so a trial is one point of the search
across the whole table.
"""

import zlib

import numpy as np

from tljax import methods

LEARNING_RATE = (-1.5, 0.5)  # Exponents of 10 times the recipe's rate: DomainBed's at 1e-3.


def overrides(method: str, trial: int, lr: float = 1e-3) -> dict:
  """{dotted config field: value} for `trial` of `method` ({} for trial 0: the defaults); `lr`:
  the recipe's learning rate, around which the trial's is drawn."""
  if trial < 0:
    raise ValueError(f"trial={trial} must be >= 0")
  if trial == 0:
    return {}
  rng = np.random.default_rng([zlib.crc32(method.encode()), trial])
  out = {"optim.lr": float(lr * 10 ** rng.uniform(*LEARNING_RATE))}
  for field, (low, high, integer) in methods.find(method).searched.items():
    value = 10 ** rng.uniform(low, high)
    out[f"method.{method}.{field}"] = int(value) if integer else float(value)
  return out

"""make_optimizer(): optax chain + regex parameter groups (lr mults, freezing)."""

import re

import jax
import jax.numpy as jnp
import ml_collections
import optax

from tljax.errors import ConfigError
from tljax.train import schedules

OPTIMIZERS = ("sgd", "adam")
LR_SCHEDULES = ("dann", "constant")


def param_path(path) -> str:
  """'classifier/backbone/Conv_0/kernel' for a tree_map_with_path key path."""
  return "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)


def group_multipliers(params, param_groups) -> dict:
  """Per-leaf update multiplier: the first matching `(regex, mult)` wins.

  `mult=None` freezes the parameter (multiplier 0); unmatched leaves get 1.
  """

  def multiplier(path, _):
    name = param_path(path)
    for pattern, mult in param_groups:
      if re.search(pattern, name):
        return 0.0 if mult is None else float(mult)
    return 1.0

  return jax.tree_util.tree_map_with_path(multiplier, params)


def scale_by_param_groups(param_groups) -> optax.GradientTransformation:
  """Multiplies each leaf's final update by its group's multiplier."""

  def update_fn(updates, state, params=None):
    del params
    mults = group_multipliers(updates, param_groups)
    return jax.tree.map(lambda u, m: u * jnp.asarray(m, u.dtype), updates, mults), state

  return optax.GradientTransformation(lambda _: optax.EmptyState(), update_fn)


def make_lr_schedule(optim: ml_collections.ConfigDict, num_steps: int):
  if optim.schedule == "dann":
    return schedules.annealed_lr(optim.lr, num_steps, optim.lr_alpha, optim.lr_beta)
  if optim.schedule == "constant":
    return schedules.constant(optim.lr)
  raise ConfigError(
    f"config.optim.schedule={optim.schedule!r} is unknown; choose one of {list(LR_SCHEDULES)}"
  )


def make_optimizer(optim: ml_collections.ConfigDict, num_steps: int):
  """Returns (tx, lr_schedule) for the `config.optim` section."""
  if optim.name not in OPTIMIZERS:
    raise ConfigError(
      f"config.optim.name={optim.name!r} is unknown; choose one of {list(OPTIMIZERS)}"
    )
  lr_schedule = make_lr_schedule(optim, num_steps)
  parts = []
  if optim.clip_norm:
    parts.append(optax.clip_by_global_norm(optim.clip_norm))
  if optim.weight_decay:
    parts.append(optax.add_decayed_weights(optim.weight_decay))
  if optim.name == "sgd":
    parts.append(optax.sgd(lr_schedule, momentum=optim.momentum or None))
  else:
    parts.append(optax.adam(lr_schedule))
  if optim.param_groups:
    parts.append(scale_by_param_groups([tuple(g) for g in optim.param_groups]))
  return optax.chain(*parts), lr_schedule

"""make_optimizer(): optax chain + regex parameter groups (lr mults, freezing) + L2-SP."""

import re
from typing import NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import optax

from tljax.core import schedules
from tljax.core.state import param_name
from tljax.errors import ConfigError

OPTIMIZERS = ("sgd", "adam")
LR_SCHEDULES = ("annealed", "constant")


param_path = param_name


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


class L2SPState(NamedTuple):
  anchor: optax.Params  # The pretrained weights w0.


def add_l2sp(alpha: float, beta: float, pretrained_mask) -> optax.GradientTransformation:
  """Adds the gradient of L2-SP (Li et al. 2018, arXiv:1802.01483) to the updates.

  Omega(w) = alpha/2 ||w_S - w0_S||^2 + beta/2 ||w_new||^2, where S are the
  leaves loaded from a pretrained checkpoint (`pretrained_mask` True) and w0
  their values when the optimizer state is created; the gradient added is
  alpha (w - w0) on S and beta w on the others. Place before the optimizer.
  """

  def init_fn(params):
    return L2SPState(anchor=jax.tree.map(jnp.copy, params))

  def update_fn(updates, state, params):
    def add(u, p, w0, pretrained):
      return u + (alpha * (p - w0) if pretrained else beta * p)

    return jax.tree.map(add, updates, params, state.anchor, pretrained_mask), state

  return optax.GradientTransformation(init_fn, update_fn)


def make_lr_schedule(optim: ml_collections.ConfigDict, num_steps: int):
  if optim.schedule == "dann":  # Its name before it was shared by every method.
    raise ConfigError("config.optim.schedule='dann' is now 'annealed' (the DANN paper's); use that")
  if optim.schedule == "annealed":
    return schedules.annealed_lr(optim.lr, num_steps, optim.lr_alpha, optim.lr_beta)
  if optim.schedule == "constant":
    return schedules.constant(optim.lr)
  raise ConfigError(
    f"config.optim.schedule={optim.schedule!r} is unknown; choose one of {list(LR_SCHEDULES)}"
  )


def check(optim: ml_collections.ConfigDict, pretrained: bool) -> None:
  """ConfigError for an `optim` section no optimizer can be made from (before any data)."""
  if optim.name not in OPTIMIZERS:
    raise ConfigError(
      f"config.optim.name={optim.name!r} is unknown; choose one of {list(OPTIMIZERS)}"
    )
  make_lr_schedule(optim, 1)
  if (optim.l2sp_alpha or optim.l2sp_beta) and not pretrained:
    raise ConfigError(
      f"config.optim.l2sp_alpha={optim.l2sp_alpha} regularises toward pretrained weights; "
      "set config.model.init_checkpoint (or model.torch_weights), or set it to 0"
    )


def make_optimizer(optim: ml_collections.ConfigDict, num_steps: int, pretrained_mask=None):
  """Returns (tx, lr_schedule) for the `config.optim` section.

  `pretrained_mask` (a params-shaped tree of bools: loaded from a checkpoint)
  is needed by L2-SP (`optim.l2sp_alpha`, `optim.l2sp_beta` > 0).
  """
  check(optim, pretrained=pretrained_mask is not None)
  lr_schedule = make_lr_schedule(optim, num_steps)
  parts = []
  if optim.clip_norm:
    parts.append(optax.clip_by_global_norm(optim.clip_norm))
  if optim.l2sp_alpha or optim.l2sp_beta:
    parts.append(add_l2sp(optim.l2sp_alpha, optim.l2sp_beta, pretrained_mask))
  if optim.weight_decay:
    parts.append(optax.add_decayed_weights(optim.weight_decay))
  if optim.name == "sgd":
    parts.append(optax.sgd(lr_schedule, momentum=optim.momentum or None))
  else:
    parts.append(optax.adam(lr_schedule))
  if optim.param_groups:
    parts.append(scale_by_param_groups([tuple(g) for g in optim.param_groups]))
  return optax.chain(*parts), lr_schedule

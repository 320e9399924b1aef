"""Optimizer groups: frozen params stay bit-identical; lr multipliers apply."""

import jax
import jax.numpy as jnp
import numpy as np

from configs import common
from tljax.core import optim


def _optim_config(**overrides):
  config = common.base_config().optim
  config.update(overrides)
  return config


def test_frozen_group_is_bit_identical_and_multiplier_scales_update():
  # Plain SGD, constant lr 0.1, no momentum: update = -0.1 * mult * grad.
  config = _optim_config(
    schedule="constant",
    lr=0.1,
    momentum=0.0,
    param_groups=((r"^backbone/", None), (r"^head/", 2.0)),
  )
  tx, _ = optim.make_optimizer(config, num_steps=10)
  params = {
    "backbone": {"w": jnp.array([1.0, 2.0])},
    "head": {"w": jnp.array([3.0])},
    "other": jnp.array(4.0),
  }
  grads = {
    "backbone": {"w": jnp.array([0.5, 0.5])},
    "head": {"w": jnp.array([1.0])},
    "other": jnp.array(1.0),
  }
  updates, _ = tx.update(grads, tx.init(params), params)
  new = jax.tree.map(lambda p, u: p + u, params, updates)
  np.testing.assert_array_equal(new["backbone"]["w"], params["backbone"]["w"])
  np.testing.assert_allclose(new["head"]["w"], [3.0 - 0.1 * 2.0 * 1.0])
  np.testing.assert_allclose(new["other"], 4.0 - 0.1 * 1.0)


def test_param_path_names():
  tree = {"classifier": {"Conv_0": {"kernel": 1}}}
  names = []
  jax.tree_util.tree_map_with_path(lambda p, _: names.append(optim.param_path(p)), tree)
  assert names == ["classifier/Conv_0/kernel"]

"""TrainState and the type aliases shared by steps, loop and checkpoints."""

from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

Params = Any  # nested dict of arrays
Batch = dict[str, Any]  # {"source": {"image", "label"}, "target": {"image"}}
Metrics = dict[str, jax.Array]  # flat dict of scalar arrays


@flax.struct.dataclass
class TrainState:
  """Everything a step changes; arrays only, so it checkpoints as-is.

  `params` holds the `classifier` and `discriminator` subtrees, `batch_stats`
  their BatchNorm statistics under the same keys (empty without BatchNorm).
  `ema_params` is the exponential moving average of the classifier's params
  that evaluation uses (equal to them when the step's `ema_decay` is 0).
  """

  step: jax.Array
  params: Params
  batch_stats: Params
  opt_state: optax.OptState
  ema_params: Params


def init_variables(
  rng: jax.Array, classifier: nn.Module, discriminator: nn.Module, image_shape: tuple[int, int, int]
) -> tuple[Params, Params]:
  """(params, batch_stats) of both networks, initialised on a dummy batch [2, H, W, C]."""
  cls_rng, disc_rng = jax.random.split(rng)
  images = jnp.zeros((2, *image_shape), jnp.float32)
  variables = classifier.init(cls_rng, images, train=False)
  _, features = classifier.apply(variables, images, train=False)
  disc_variables = discriminator.init(disc_rng, features, train=False)
  params = {"classifier": variables["params"], "discriminator": disc_variables["params"]}
  batch_stats = {
    "classifier": variables.get("batch_stats", {}),
    "discriminator": disc_variables.get("batch_stats", {}),
  }
  return params, batch_stats


def new_train_state(params: Params, batch_stats: Params, tx: optax.GradientTransformation):
  """Step 0 of training from `params` (random or pretrained)."""
  return TrainState(
    step=jnp.zeros((), jnp.int32),
    params=params,
    batch_stats=batch_stats,
    opt_state=tx.init(params),
    ema_params=jax.tree.map(jnp.copy, params["classifier"]),  # Own buffers: donated.
  )


def create_train_state(
  rng: jax.Array,
  classifier: nn.Module,
  discriminator: nn.Module,
  tx: optax.GradientTransformation,
  image_shape: tuple[int, int, int],
) -> TrainState:
  """Initialises both networks on a dummy batch of `image_shape` [H, W, C]."""
  params, batch_stats = init_variables(rng, classifier, discriminator, image_shape)
  return new_train_state(params, batch_stats, tx)

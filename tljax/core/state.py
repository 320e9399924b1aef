"""TrainState and the type aliases shared by steps, loop and checkpoints."""

import functools
from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from tljax.errors import ConfigError

Params = Any  # nested dict of arrays
Batch = dict[str, Any]  # {"source": {"input", "label"}, "target": {"input"}}
Metrics = dict[str, jax.Array]  # flat dict of scalar arrays


@flax.struct.dataclass
class TrainState:
  """Everything a step changes; arrays only, so it checkpoints as-is.

  `params` holds the `classifier` subtree and each of the method's extra
  networks (e.g. `discriminator`), `batch_stats` their BatchNorm statistics
  under the same keys (empty without BatchNorm), `method_state` the method's
  arrays that are not trained (e.g. CDAN's random projections). `ema_params`
  are the classifier's weights evaluation uses: an average of its params over steps when the
  step averages (`ema_decay`, `average_from`), else equal to them.
  """

  step: jax.Array
  params: Params
  batch_stats: Params
  opt_state: optax.OptState
  ema_params: Params
  method_state: Params


def init_variables(
  rng: jax.Array, classifier: nn.Module, method, image_shape: tuple[int, int, int]
) -> tuple[Params, Params, Params]:
  """(params, batch_stats, method_state): the classifier and the method's extras.

  Initialised on a dummy batch [2, H, W, C]; `method` is a `tljax.core.Method`.
  The classifier's init is one compiled program, cached per classifier and
  shape (flax's init run op by op compiles every op on its own: seconds per
  run on a CPU); the method's `init` runs as it is (it may read files).
  """
  cls_rng, method_rng = jax.random.split(rng)
  variables, logits, features = _init_classifier(cls_rng, classifier, tuple(image_shape))
  extras = method.init(method_rng, logits, features)
  params = {"classifier": variables["params"], **extras.params}
  batch_stats = {"classifier": variables.get("batch_stats", {}), **extras.batch_stats}
  return params, batch_stats, extras.state


@functools.partial(jax.jit, static_argnums=(1, 2))
def _init_classifier(rng, classifier, image_shape):
  images = jnp.zeros((2, *image_shape), jnp.float32)
  variables = classifier.init(rng, images, train=False)
  logits, features = classifier.apply(variables, images, train=False)
  return variables, logits, features


def new_train_state(
  params: Params, batch_stats: Params, tx: optax.GradientTransformation, method_state=None
):
  """Step 0 of training from `params` (random or pretrained)."""
  return TrainState(
    step=jnp.zeros((), jnp.int32),
    params=params,
    batch_stats=batch_stats,
    opt_state=tx.init(params),
    ema_params=jax.tree.map(jnp.copy, params["classifier"]),  # Own buffers: donated.
    method_state=method_state or {},
  )


def create_train_state(
  rng: jax.Array,
  classifier: nn.Module,
  method,
  tx: optax.GradientTransformation,
  image_shape: tuple[int, int, int],
  prepare_later: bool = False,
) -> TrainState:
  """Initialises the classifier and the method's extras on a dummy batch of `image_shape`.

  A method that computes something from the training sets before training
  (`Method.prepare`: kmm, kliep, delta, co_tuning) then needs
  `tljax.core.prepare(method, classifier, state, sets)`, which returns the
  state and the sets the batches must come from; `create_train_state`
  refuses it rather than train it unprepared.
  """
  if getattr(method, "prepares", False) and not prepare_later:
    raise ConfigError(
      f"method {method.name!r} prepares on its training sets before training "
      f"(Method.prepare): follow create_train_state with "
      "`state, sets = tljax.core.prepare(method, classifier, state, sets)` and build the "
      "batches from those sets; pass prepare_later=True to say you will"
    )
  params, batch_stats, method_state = init_variables(rng, classifier, method, image_shape)
  return new_train_state(params, batch_stats, tx, method_state)


def init_rng(seed: int) -> jax.Array:
  """The key a run of `seed` initialises its networks from (its steps use `key(seed)` itself)."""
  return jax.random.split(jax.random.key(seed))[0]


def param_name(path) -> str:
  """'classifier/backbone/Conv_0/kernel' for a tree_map_with_path key path."""
  return "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)

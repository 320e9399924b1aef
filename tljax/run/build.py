"""build(config, ...): the method, models, optimizer, prepared initial state and compiled steps."""

import dataclasses
import re
from typing import NamedTuple

import jax
import ml_collections

from tljax import core, methods, models
from tljax.core import optim
from tljax.core import placement as parallel
from tljax.core import state as state_lib
from tljax.core import step as steps
from tljax.data import augment, pipeline
from tljax.errors import ConfigError
from tljax.run import pretrained


class Built(NamedTuple):
  """What `build` returns; `placement.put_state` moves `state` where `train_step` wants it."""

  state: state_lib.TrainState
  train_step: object
  eval_step: object
  placement: parallel.Placement
  init_report: dict | None  # Which params came from a pretrained checkpoint (None: none).
  method: core.Method
  classifier: object  # The flax classifier module.
  sets: dict | None  # The training sets, as `core.prepare` returned them (the streams' data).
  pure_step: object  # The train step with its dependencies bound, before placement compiles it.


def build(
  config: ml_collections.ConfigDict,
  image_shape,
  num_classes: int,
  sets: dict | None = None,
  method: core.Method | None = None,
  unknown: bool = False,
) -> Built:
  """Everything a run of `config` trains with, on inputs of `image_shape` ([H, W, C] or [L]).

  The initial state is random, or loaded from `config.model.init_checkpoint` /
  `model.torch_weights`; `model.freeze_backbone` freezes the backbone's params
  in the optimizer, before `optim.param_groups`. Then the method prepares on
  `sets` (the training arrays by stream, `splits.training_sets`: required by
  a method with `prepare`), from the pretrained start. `method`: the one
  `validate.validate_config` built, so nothing is built twice (default: built
  here from the config). `unknown`: the target has classes the source lacks
  (`splits.Domains.unknown`): evaluation then counts num_classes + 1 labels.
  """
  placement = parallel.Placement(config.parallel)
  if method is None:
    method = methods.create(config, num_classes, image_shape, unknown)
  method = dataclasses.replace(
    method, num_classes=num_classes, input_shape=tuple(image_shape), unknown=unknown
  )
  if method.prepares and sets is None:
    raise ConfigError(
      f"method {method.name!r} prepares on the training sets before training: pass them to "
      "build (splits.training_sets)"
    )
  classifier = models.build_classifier(config.model, method.outputs)
  params, batch_stats, method_state = state_lib.init_variables(
    state_lib.init_rng(config.seed), classifier, method, image_shape
  )
  params, batch_stats, report = pretrained.load(config.model, params, batch_stats)
  if method.source_free:
    pretrained.check_whole_classifier(config.model, report, method.name)
  if method.needs_batch_norm:
    batch_norm_layers(batch_stats)
  optim_config = config.optim
  if config.model.freeze_backbone:
    optim_config = ml_collections.ConfigDict(config.optim.to_dict())
    optim_config.param_groups = ((r"^classifier/backbone/", None), *config.optim.param_groups)
  if method.trains != "all":
    optim_config = ml_collections.ConfigDict(optim_config.to_dict())
    if method.trains == "batch_norm":
      frozen = batch_norm_frozen(batch_stats)
    else:  # "features"
      frozen = output_layer(config.model)
    optim_config.param_groups = ((frozen, None), *optim_config.param_groups)
  tx, lr_schedule = optim.make_optimizer(
    optim_config, config.train.num_steps, pretrained.loaded_mask(params, report)
  )
  state = state_lib.new_train_state(params, batch_stats, tx, method_state)
  if sets is not None:
    state, sets = _prepare(method, classifier, state, sets)
  hparams = steps.StepHParams(
    augment=augmentation(config.data),
    ema_decay=config.train.ema_decay,
    average_from=config.train.average_from,
    dtype=config.train.dtype,
  )
  pure_step = steps.make_train_step(
    method=method, classifier=classifier, tx=tx, lr_schedule=lr_schedule, hparams=hparams
  )
  train_step = placement.compile(pure_step)
  labels = num_classes + int(unknown)
  eval_step = jax.jit(
    lambda s, b: steps.eval_step(s, b, classifier=classifier, method=method, num_labels=labels)
  )
  return Built(state, train_step, eval_step, placement, report, method, classifier, sets, pure_step)


def _prepare(method, classifier, state, sets):
  """`core.prepare`; with several processes, every process takes process 0's method state."""
  prepared, sets = core.prepare(method, classifier, state, sets)
  if jax.process_count() > 1 and prepared.method_state is not state.method_state:
    from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top

    method_state = multihost_utils.broadcast_one_to_all(prepared.method_state)
    prepared = prepared.replace(method_state=method_state)
  return prepared, sets


def batch_norm_layers(batch_stats) -> list[str]:
  """The names of the network's BatchNorm layers (modules with running statistics).

  ConfigError when it has none: a method that adapts them would do nothing.
  """
  layers = sorted(
    {
      state_lib.param_name(path).rsplit("/", 1)[0]
      for path, _ in jax.tree_util.tree_leaves_with_path(batch_stats)
    }
  )
  if not layers:
    raise ConfigError(
      "this method adapts BatchNorm layers, and the network has none: use "
      "--config.model.norm=batch (and a source run trained with it); the text networks have none"
    )
  return layers


def batch_norm_frozen(batch_stats) -> str:
  """A regex matching every parameter name except the BatchNorm scales and shifts."""
  alternatives = "|".join(re.escape(layer) for layer in batch_norm_layers(batch_stats))
  return rf"^(?!(?:{alternatives})/(?:scale|bias)$)"


def output_layer(model: ml_collections.ConfigDict) -> str:
  """A regex matching the classifier's output layer (the hypothesis SHOT keeps fixed)."""
  return rf"^classifier/head/{models.output_layer(model)}/"


def augmentation(data: ml_collections.ConfigDict) -> augment.Augment:
  """The views' augmentation for the run's kind of input (`tljax.data.augment`)."""
  kind = pipeline.modality(data.target)
  if kind == "text":
    return augment.Text(drop=data.text.strong_drop)
  if kind == "audio":
    a = data.audio
    return augment.Audio(shift=a.shift, masks=a.masks, time_mask=a.time_mask, freq_mask=a.freq_mask)
  return augment.Images(
    shift=data.random_shift,
    strong_shift=data.strong_shift,
    cutout=data.cutout,
    colour=data.colour_jitter,
  )

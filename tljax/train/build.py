"""build(config): the method, models, optimizer, initial state and compiled steps."""

from typing import NamedTuple

import jax
import ml_collections

from tljax import models
from tljax.data import pipeline
from tljax.methods import augment, base
from tljax.train import optim, parallel, pretrained, steps
from tljax.train import state as state_lib


class Built(NamedTuple):
  """What `build` returns; `placement.put_state` moves `state` where `train_step` wants it."""

  state: state_lib.TrainState
  train_step: object
  eval_step: object
  placement: parallel.Placement
  init_report: dict | None  # Which params came from a pretrained checkpoint (None: none).
  method: base.Method
  classifier: object  # The flax classifier module.


def build(config: ml_collections.ConfigDict, image_shape, num_classes: int) -> Built:
  """Everything a run of `config` trains with, on images of `image_shape` [H, W, C].

  The initial state is random, or loaded from `config.model.init_checkpoint` /
  `model.torch_weights`; `model.freeze_backbone` freezes the backbone's params
  in the optimizer, before `optim.param_groups`.
  """
  placement = parallel.Placement(config.parallel)
  method = base.create(config, num_classes, image_shape)
  classifier = models.build_classifier(config.model, num_classes)
  init_rng, _ = jax.random.split(jax.random.key(config.seed))
  params, batch_stats, method_state = state_lib.init_variables(
    init_rng, classifier, method, image_shape
  )
  params, batch_stats, report = pretrained.load(config.model, params, batch_stats)
  optim_config = config.optim
  if config.model.freeze_backbone:
    optim_config = ml_collections.ConfigDict(config.optim.to_dict())
    optim_config.param_groups = ((r"^classifier/backbone/", None), *config.optim.param_groups)
  tx, lr_schedule = optim.make_optimizer(
    optim_config, config.train.num_steps, pretrained.loaded_mask(params, report)
  )
  state = state_lib.new_train_state(params, batch_stats, tx, method_state)
  hparams = steps.StepHParams(
    augment=augmentation(config.data), ema_decay=config.train.ema_decay, dtype=config.train.dtype
  )
  train_step = placement.compile(
    steps.make_train_step(
      method=method, classifier=classifier, tx=tx, lr_schedule=lr_schedule, hparams=hparams
    )
  )
  eval_step = jax.jit(
    lambda s, b: steps.eval_step(s, b, classifier=classifier, num_classes=num_classes)
  )
  return Built(state, train_step, eval_step, placement, report, method, classifier)


def prepare(built: Built, sets: dict[str, dict]) -> tuple[Built, object]:
  """(`built` with `Method.prepare`'s state in its method_state, source weights or None).

  `sets`: the training arrays by stream (`splits.training_sets`, or a
  synthetic batch in benchmarks and tests).
  """
  state = built.state
  start = base.Start(
    classifier=built.classifier,
    variables={"params": state.params, "batch_stats": state.batch_stats},
    sets=sets,
  )
  prepared = built.method.prepare(start)
  if prepared.state:
    method_state = prepared.state
    if jax.process_count() > 1:  # Computed from each process's rows: every process takes 0's.
      from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top

      method_state = multihost_utils.broadcast_one_to_all(method_state)
    state = state.replace(method_state={**state.method_state, **method_state})
  return built._replace(state=state), prepared.source_weights


def augmentation(data: ml_collections.ConfigDict) -> augment.Augment:
  """The views' augmentation for the run's kind of input (`tljax.methods.augment`)."""
  if pipeline.is_text(data.source):
    return augment.Text(drop=data.text.strong_drop)
  return augment.Images(shift=data.random_shift, strong_shift=data.strong_shift, cutout=data.cutout)

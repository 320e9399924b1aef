"""Pure train and eval steps: (state, batch, rng) -> (state, metrics).

Dependencies are keyword-only and bound with `functools.partial` before
`jax.jit`/`jax.pmap`; see `make_train_step`.
"""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from tljax.methods import augment as augment_lib
from tljax.methods import base, update
from tljax.train import schedules
from tljax.train.state import Batch, Metrics, TrainState


@dataclasses.dataclass(frozen=True)
class StepHParams:
  """The numbers every method's step needs, fixed when the step is built.

  A method's own numbers (trade-offs, schedules, thresholds) live on the
  method object (`tljax.methods.base.Method`).
  """

  # The views' augmentation: `augment.Images(shift=2)` (train-time translation) or `.Text()`.
  augment: augment_lib.Augment = augment_lib.Images()
  ema_decay: float = 0.0  # Evaluation weights: EMA of the classifier's params.
  dtype: str = "float32"  # Compute dtype; "bfloat16": mixed precision, float32 params and loss.


def train_step(
  state: TrainState,
  batch: Batch,
  rng: jax.Array,
  *,
  method: base.Method,
  classifier: nn.Module,
  tx: optax.GradientTransformation,
  lr_schedule: schedules.Schedule,
  hparams: StepHParams,
  axis_name: str | None = None,
) -> tuple[TrainState, Metrics]:
  """One train step of `method` (see `tljax.methods`): (state, metrics).

  The step's randomness is `fold_in(rng, state.step)` (and the device index
  under pmap), so a resumed run repeats an uninterrupted one bit for bit.
  """
  rng = jax.random.fold_in(rng, state.step)
  if axis_name is not None:
    rng = jax.random.fold_in(rng, jax.lax.axis_index(axis_name))
  dtype = None if hparams.dtype == "float32" else jnp.dtype(hparams.dtype)
  step = update.Step(
    classifier, tx, lr_schedule, hparams.augment, hparams.ema_decay, axis_name, dtype
  )
  return method.update(state, batch, rng, step)


def eval_step(
  state: TrainState,
  batch: dict[str, jax.Array],
  *,
  classifier: nn.Module,
  num_classes: int,
) -> Metrics:
  """Confusion-matrix counts [K, K] (rows: true label) on a masked batch.

  Uses `state.ema_params`, the classifier's params themselves unless the
  train step averages them (`StepHParams.ema_decay`).

  `batch = {"input", "label", "mask"}`; `mask` is 0 for padding rows, so a
  split of any size evaluates exactly. Sum the counts over batches and read
  accuracy and per-class recall with `confusion_summary`.
  """
  logits, _ = classifier.apply(
    update.variables(state.ema_params, state.batch_stats["classifier"]),
    batch["input"],
    train=False,
  )
  predicted = jax.nn.one_hot(jnp.argmax(logits, -1), num_classes)
  truth = jax.nn.one_hot(batch["label"], num_classes) * batch["mask"][:, None]
  return {"confusion": truth.T @ predicted}


def confusion_summary(confusion) -> dict:
  """Accuracy, per-class recall and the confusion matrix from summed counts [K, K]."""
  confusion = jnp.asarray(confusion)
  per_class = confusion.sum(axis=1)
  recall = jnp.diag(confusion) / jnp.maximum(per_class, 1)
  return {
    "accuracy": round(float(jnp.trace(confusion) / jnp.maximum(confusion.sum(), 1)), 6),
    "per_class_recall": [round(float(r), 4) for r in recall],
    "num_examples": int(confusion.sum()),
    "confusion": [[int(c) for c in row] for row in confusion],  # Rows: true class.
  }


def make_train_step(**deps):
  """`train_step` with its keyword dependencies bound, ready for jit/pmap."""
  return functools.partial(train_step, **deps)

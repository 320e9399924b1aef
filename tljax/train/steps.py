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

from tljax.methods import augment, classification, dann
from tljax.train import schedules
from tljax.train.state import Batch, Metrics, TrainState

METHODS = ("dann", "source_only", "target_only")


@dataclasses.dataclass(frozen=True)
class StepHParams:
  """The numbers a train step needs, fixed when the step is built.

  `method="dann"` adds the adversarial domain loss; `source_only` and
  `target_only` train the classifier alone on `batch["source"]` (for the
  target-only oracle the loop feeds labelled target data there).
  """

  method: str = "dann"
  trade_off: float = 1.0
  num_steps: int = 1
  grl_gamma: float = 10.0
  grl_max: float = 1.0
  random_shift: int = 0
  ema_decay: float = 0.0  # Evaluation weights: EMA of the classifier's params.


def _variables(params, batch_stats) -> dict:
  return {"params": params, "batch_stats": batch_stats} if batch_stats else {"params": params}


def _apply_train(module: nn.Module, params, batch_stats, inputs, rng):
  """Training-mode forward pass: (outputs, updated BatchNorm statistics)."""
  out, updates = module.apply(
    _variables(params, batch_stats),
    inputs,
    train=True,
    mutable=["batch_stats"],
    rngs={"dropout": rng},
  )
  return out, updates.get("batch_stats", batch_stats)


def train_step(
  state: TrainState,
  batch: Batch,
  rng: jax.Array,
  *,
  classifier: nn.Module,
  discriminator: nn.Module,
  tx: optax.GradientTransformation,
  lr_schedule: schedules.Schedule,
  hparams: StepHParams,
  axis_name: str | None = None,
) -> tuple[TrainState, Metrics]:
  """One SGD step of DANN (or a source/target-only baseline).

  DANN forwards the concatenated [source; target] images once, so BatchNorm
  sees both domains, then `grl(features, λ_p)` into the discriminator.
  """
  rng = jax.random.fold_in(rng, state.step)
  if axis_name is not None:
    rng = jax.random.fold_in(rng, jax.lax.axis_index(axis_name))
  cls_rng, disc_rng, aug_rng = jax.random.split(rng, 3)
  adversarial = hparams.method == "dann"
  source = batch["source"]
  num_source = source["image"].shape[0]
  images = source["image"]
  if adversarial:
    images = jnp.concatenate([images, batch["target"]["image"]])
  images = augment.random_shift(images, aug_rng, hparams.random_shift)
  coeff = schedules.grl_coefficient(hparams.num_steps, hparams.grl_gamma, hparams.grl_max)(
    state.step
  )

  def loss_fn(params):
    stats = dict(state.batch_stats)
    (logits, features), stats["classifier"] = _apply_train(
      classifier, params["classifier"], stats["classifier"], images, cls_rng
    )
    cls_losses = classification.cross_entropy(logits[:num_source], source["label"])
    metrics = {
      "cls_loss": cls_losses.mean(),
      "accuracy": classification.correct(logits[:num_source], source["label"]).mean(),
    }
    loss = metrics["cls_loss"]
    if adversarial:

      def discriminate(f):
        logits, stats["discriminator"] = _apply_train(
          discriminator, params["discriminator"], stats["discriminator"], f, disc_rng
        )
        return logits

      domain_loss, domain_metrics = dann.adversarial_domain_terms(
        discriminate, features, num_source, coeff
      )
      loss = loss + hparams.trade_off * domain_loss
      metrics.update(domain_metrics)
    return loss, (metrics, stats)

  grads, (metrics, batch_stats) = jax.grad(loss_fn, has_aux=True)(state.params)
  if axis_name is not None:
    grads = jax.lax.pmean(grads, axis_name)
    batch_stats = jax.lax.pmean(batch_stats, axis_name)
  updates, opt_state = tx.update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, updates)
  metrics["loss"] = metrics["cls_loss"] + (
    hparams.trade_off * metrics["domain_loss"] if adversarial else 0.0
  )
  metrics["grad_norm"] = optax.tree.norm(grads)
  metrics["lr"] = jnp.asarray(lr_schedule(state.step), jnp.float32)
  if adversarial:
    metrics["grl_coeff"] = coeff
  if axis_name is not None:
    metrics = jax.lax.pmean(metrics, axis_name)
  new_state = state.replace(
    step=state.step + 1,
    params=params,
    batch_stats=batch_stats,
    opt_state=opt_state,
    ema_params=_ema(state.ema_params, params["classifier"], state.step, hparams.ema_decay),
  )
  return new_state, metrics


def _ema(average, params, step: jax.Array, decay: float):
  """Polyak averaging with TF's warm-up: decay min(d, (1 + t) / (10 + t))."""
  if decay == 0.0:
    return params
  d = jnp.minimum(decay, (1.0 + step) / (10.0 + step))
  return jax.tree.map(lambda a, p: d * a + (1.0 - d) * p, average, params)


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

  `batch = {"image", "label", "mask"}`; `mask` is 0 for padding rows, so a
  split of any size evaluates exactly. Sum the counts over batches and read
  accuracy and per-class recall with `confusion_summary`.
  """
  logits, _ = classifier.apply(
    _variables(state.ema_params, state.batch_stats["classifier"]),
    batch["image"],
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

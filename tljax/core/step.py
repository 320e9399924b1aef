"""The pure train and eval steps, and the pieces methods build their update from.

`train_step(state, batch, rng, *, method, ...) -> (state, metrics)` is the
step every placement compiles; its dependencies are keyword-only and bound
with `functools.partial` before `jax.jit` (`make_train_step`). It asks the
method for its update; the default, `gradient_update`, is one training-mode
forward pass of the classifier over the method's views, one gradient of the
method's loss, one optimizer update. A method that needs several updates per
step (MCD) calls `forward`, `apply_gradients` (optionally on a subset of the
parameters) and `finish` itself. `eval_step` counts a confusion matrix.
"""

import dataclasses
import functools
import re
from typing import Any, Callable, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from tljax.core.state import Batch, Metrics, TrainState
from tljax.data import augment as augment_lib


class Step(NamedTuple):
  """The step's bound dependencies, as a method's update sees them (see `train_step`)."""

  classifier: nn.Module
  tx: optax.GradientTransformation
  lr_schedule: Callable[[jax.Array], jax.Array]
  augment: Any  # `tljax.data.augment.Images` or `.Text`: the views' augmentation.
  ema_decay: float  # Evaluation weights: EMA of the classifier's params (0: none).
  axis_name: str | None  # Set under pmap: then gradients and metrics are averaged.
  dtype: Any = None  # Compute dtype of training forward passes (jnp.bfloat16); None: params'.
  average_from: int = -1  # >= 0: evaluation weights are the params' mean from this step on.


@dataclasses.dataclass
class Forward:
  """One training-mode forward pass, as a method's `loss` sees it.

  `logits[view]` [N, K] and `features[view]` [N, D] for every view the
  method asked for (`inputs[view]`: what went in; `intermediates[view]`:
  the outputs `Method.capture` names); `batch` the step's batch (labels); `step` the step
  number; `rng` the method's own randomness. `apply` runs one of the method's
  extra networks in training mode and keeps its BatchNorm statistics. A loss
  that tracks a running statistic (PADA's class weights) assigns the new
  `method_state`; the step keeps it (averaged over devices per device).
  """

  logits: dict[str, jax.Array]
  features: dict[str, jax.Array]
  params: dict
  batch_stats: dict
  method_state: dict
  batch: dict
  step: jax.Array
  rng: jax.Array
  dtype: Any = None  # The step's compute dtype (`Step.dtype`).
  intermediates: dict = dataclasses.field(default_factory=dict)  # view -> {path: output}.
  inputs: dict = dataclasses.field(default_factory=dict)  # view -> the inputs it saw.
  classifier: Any = None  # The classifier module (`head` runs its label head).
  axis_name: str | None = None  # The device axis under pmap (`Step.axis_name`), else None.

  def head(self, features: jax.Array) -> jax.Array:
    """The classifier's label head on other features [N, D] (e.g. reversed ones, OSBP), training
    mode, with the classifier's params (gradients reach them); its BatchNorm statistics from
    this call are not kept (the forward pass's are)."""
    return self._classifier_part("classify", features)

  def embed(self, features: jax.Array) -> jax.Array:
    """The head's last hidden activations [N, H] on features [N, D] (what its output layer
    reads: SHOT's and NRC's feature space), as `head`: training mode, gradients reach them."""
    return self._classifier_part("embed", features)

  def _classifier_part(self, method: str, features: jax.Array) -> jax.Array:
    out, _, _ = apply_capturing(
      self.classifier,
      self.params["classifier"],
      self.batch_stats["classifier"],
      features,
      self.rng,
      self.dtype,
      method=method,
    )
    return out

  def apply(self, name: str, module: nn.Module, inputs: Any, rng: jax.Array | None = None):
    """`module` with `params[name]` on `inputs`, training mode."""
    out, self.batch_stats[name] = apply_train(
      module,
      self.params[name],
      self.batch_stats[name],
      inputs,
      self.rng if rng is None else rng,
      self.dtype,
    )
    return out


def variables(params, batch_stats) -> dict:
  return {"params": params, "batch_stats": batch_stats} if batch_stats else {"params": params}


def apply_train(module: nn.Module, params, batch_stats, inputs, rng: jax.Array, dtype=None):
  """Training-mode forward pass: (outputs, updated BatchNorm statistics).

  With `dtype` (mixed precision), every submodule computes in `dtype` on a
  cast copy of the float32 params, BatchNorm statistics stay float32, and
  the outputs come back as float32, so losses and gradients are float32.
  """
  out, stats, _ = apply_capturing(module, params, batch_stats, inputs, rng, dtype)
  return out, stats


def apply_capturing(
  module: nn.Module,
  params,
  batch_stats,
  inputs,
  rng: jax.Array,
  dtype=None,
  capture=None,
  method: str | None = None,
):
  """`apply_train` that also returns the outputs of the submodules `capture` names.

  `capture`: a regex searched in each submodule's path ("backbone/Conv_0");
  returns (outputs, statistics, {path: output}) ({} without `capture`).
  `method`: another method of the module than `__call__` (e.g. "classify").
  """
  mutable = ["batch_stats"] + (["intermediates"] if capture else [])
  kwargs = {"capture_intermediates": capturing(capture)} if capture else {}
  if method is not None:
    kwargs["method"] = method
  apply = lambda p, x: module.apply(  # noqa: E731
    variables(p, batch_stats), x, train=True, mutable=mutable, rngs={"dropout": rng}, **kwargs
  )
  if dtype is None:
    out, updates = apply(params, inputs)
  else:
    with nn.intercept_methods(_casting(dtype)):
      out, updates = apply(cast(params, dtype), cast(inputs, dtype))
    out = cast(out, jnp.float32)
  stats = jax.tree.map(
    lambda new, old: new.astype(old.dtype), updates.get("batch_stats", batch_stats), batch_stats
  )
  return out, stats, cast(captured(updates.get("intermediates", {})), jnp.float32)


def capturing(pattern: str):
  """A flax `capture_intermediates` filter: `__call__` outputs of modules whose path matches."""
  regex = re.compile(pattern)
  return lambda mdl, method: method == "__call__" and bool(regex.search("/".join(mdl.path)))


def captured(intermediates: dict, prefix: str = "") -> dict:
  """{"backbone/Conv_0": output} from flax's {"backbone": {"Conv_0": {"__call__": (output,)}}}."""
  out = {}
  for key, value in intermediates.items():
    if key == "__call__":
      out[prefix] = value[0]
    else:
      out.update(captured(value, f"{prefix}/{key}" if prefix else key))
  return out


def cast(tree, dtype):
  """Floating leaves of `tree` as `dtype`; integer leaves (labels, uint8 pixels) as they are."""
  return jax.tree.map(
    lambda x: x.astype(dtype) if jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating) else x, tree
  )


def _casting(dtype):
  """A flax method interceptor: floating inputs of every submodule call as `dtype`."""

  def interceptor(next_fun, args, kwargs, context):
    del context
    return next_fun(*cast(args, dtype), **kwargs)

  return interceptor


def forward(
  step: Step, state, params, views: dict, batch: dict, rng, method_rng, capture=None
) -> Forward:
  """The classifier over the concatenated views, once (BatchNorm sees them all).

  `capture` (`Method.capture`) also keeps the outputs of the modules it names.
  """
  names = list(views)
  images = views[names[0]] if len(names) == 1 else jnp.concatenate([views[n] for n in names])
  stats = dict(state.batch_stats)
  (logits, features), stats["classifier"], inner = apply_capturing(
    step.classifier, params["classifier"], stats["classifier"], images, rng, step.dtype, capture
  )
  split_logits, split_features, split_inner, start = {}, {}, {}, 0
  for name in names:
    end = start + views[name].shape[0]
    split_logits[name], split_features[name] = logits[start:end], features[start:end]
    split_inner[name] = {path: x[start:end] for path, x in inner.items()}
    start = end
  return Forward(
    split_logits,
    split_features,
    params,
    stats,
    state.method_state,
    batch,
    state.step,
    method_rng,
    step.dtype,
    split_inner,
    views,
    step.classifier,
    step.axis_name,
  )


def gradient_update(method, state, batch: dict, rng: jax.Array, step: Step):
  """The default update: one gradient of `method.loss`, one optimizer step."""
  forward_rng, method_rng, aug_rng = jax.random.split(rng, 3)
  views = method.views(batch, aug_rng, step.augment)

  assigned = []  # Whether the loss assigned a new method_state (known when tracing).

  def loss_fn(params):
    out = forward(step, state, params, views, batch, forward_rng, method_rng, method.capture)
    loss, metrics = method.loss(out)
    assigned.append(out.method_state is not state.method_state)
    return loss, (dict(metrics, loss=loss), out.batch_stats, out.method_state)

  grads, (metrics, batch_stats, method_state) = jax.grad(loss_fn, has_aux=True)(state.params)
  new_state, grad_norm = apply_gradients(step, state, grads, batch_stats)
  if assigned[0]:
    method_state = jax.lax.stop_gradient(method_state)
    if step.axis_name is not None:
      method_state = jax.tree.map(
        lambda x: jax.lax.pmean(x, step.axis_name) if jnp.issubdtype(x.dtype, jnp.floating) else x,
        method_state,
      )
    new_state = new_state.replace(method_state=method_state)
  return finish(step, state, new_state, dict(metrics, grad_norm=grad_norm))


def apply_gradients(
  step: Step, state, grads, batch_stats, trained: Callable[[str], bool] | None = None
):
  """(state with one optimizer update, gradient norm); the step counter is not advanced.

  `trained(name)` limits the update to the parameters it accepts (names as
  "classifier/backbone/Conv_0/kernel"): the others, and their optimizer
  state (momentum, L2-SP anchors), keep their values, as if each group had
  its own optimizer. The optimizer's step counters advance only for a full
  update, so the learning-rate schedule counts train steps, not phases.
  """
  if step.axis_name is not None:
    grads = jax.lax.pmean(grads, step.axis_name)
    batch_stats = jax.lax.pmean(batch_stats, step.axis_name)
  updates, opt_state = step.tx.update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, updates)
  if trained is not None:
    params = select(trained, params, state.params, counters_from_new=False)
    opt_state = select(trained, opt_state, state.opt_state, counters_from_new=False)
  new_state = state.replace(params=params, batch_stats=batch_stats, opt_state=opt_state)
  return new_state, optax.tree.norm(grads)


def select(trained: Callable[[str], bool], new, old, counters_from_new: bool):
  """Per leaf: `new` where its parameter name is `trained`, else `old`.

  Works on params and on optimizer states (whose params-shaped parts have the
  params' dict keys); leaves outside any dict (step counters) come from
  `new` only if `counters_from_new`.
  """

  def pick(path, new_leaf, old_leaf):
    name = param_path(path)
    keep_new = trained(name) if name else counters_from_new
    return new_leaf if keep_new else old_leaf

  return jax.tree_util.tree_map_with_path(pick, new, old)


def param_path(path) -> str:
  """'classifier/head/Dense_0/kernel' from a key path: its dict keys only ('' for counters)."""
  return "/".join(str(k.key) for k in path if isinstance(k, jax.tree_util.DictKey))


def finish(step: Step, old_state, new_state, metrics: dict):
  """Advances the step counter and the EMA weights; adds `lr`; averages metrics under pmap.

  Scalars are averaged over devices; per-example arrays (a TTA method's `predictions`) stay
  each device's own.
  """
  metrics = dict(metrics, lr=jnp.asarray(step.lr_schedule(old_state.step), jnp.float32))
  if step.axis_name is not None:
    metrics = {
      k: jax.lax.pmean(v, step.axis_name) if jnp.ndim(v) == 0 else v for k, v in metrics.items()
    }
  classifier = new_state.params["classifier"]
  return new_state.replace(
    step=old_state.step + 1,
    ema_params=ema(
      old_state.ema_params, classifier, old_state.step, step.ema_decay, step.average_from
    ),
  ), metrics


def ema(average, params, step: jax.Array, decay: float, average_from: int = -1):
  """The evaluation weights after step `step` (0-based) produced `params`.

  `decay` > 0: Polyak averaging with TF's warm-up, decay min(d, (1 + t) / (10 + t)).
  `average_from` >= 0: the uniform mean of the params at every step from `average_from` on
  (SWA, Izmailov et al. 2018, averaged densely, as SWAD does, Cha et al. 2021): the
  params after step t are the (t + 1)-th, so k = t + 1 - average_from are already in the
  mean and the old mean keeps weight k / (k + 1); before `average_from`, the params
  themselves. Otherwise the params.
  """
  if average_from >= 0:
    k = jnp.maximum(step + 1 - average_from, 0).astype(jnp.float32)
    d = k / (k + 1.0)
  elif decay == 0.0:
    return params
  else:
    d = jnp.minimum(decay, (1.0 + step) / (10.0 + step))
  return jax.tree.map(lambda a, p: d * a + (1.0 - d) * p, average, params)


@dataclasses.dataclass(frozen=True)
class StepHParams:
  """The numbers every method's step needs, fixed when the step is built.

  A method's own numbers (trade-offs, schedules, thresholds) live on the
  method object (`tljax.methods.core.Method`).
  """

  # The views' augmentation: `augment.Images(shift=2)` (train-time translation) or `.Text()`.
  augment: augment_lib.Augment = augment_lib.Images()
  ema_decay: float = 0.0  # Evaluation weights: EMA of the classifier's params.
  average_from: int = -1  # >= 0: evaluation weights: the params' mean from this step on (SWA).
  dtype: str = "float32"  # Compute dtype; "bfloat16": mixed precision, float32 params and loss.


def train_step(
  state: TrainState,
  batch: Batch,
  rng: jax.Array,
  *,
  method,
  classifier: nn.Module,
  tx: optax.GradientTransformation,
  lr_schedule: Callable[[jax.Array], jax.Array],
  hparams: StepHParams,
  axis_name: str | None = None,
) -> tuple[TrainState, Metrics]:
  """One train step of `method` (a `tljax.core.method.Method`): (state, metrics).

  The step's randomness is `fold_in(rng, state.step)` (and the device index
  under pmap), so a resumed run repeats an uninterrupted one bit for bit.
  """
  rng = jax.random.fold_in(rng, state.step)
  if axis_name is not None:
    rng = jax.random.fold_in(rng, jax.lax.axis_index(axis_name))
  dtype = None if hparams.dtype == "float32" else jnp.dtype(hparams.dtype)
  step = Step(
    classifier,
    tx,
    lr_schedule,
    hparams.augment,
    hparams.ema_decay,
    axis_name,
    dtype,
    hparams.average_from,
  )
  return method.update(state, batch, rng, step)


def eval_step(
  state: TrainState,
  batch: dict[str, jax.Array],
  *,
  classifier: nn.Module,
  method,
  num_labels: int,
) -> Metrics:
  """Confusion-matrix counts [L, L] (rows: true label) on a masked batch.

  L = `num_labels`: the source's classes, plus "unknown" when the target has
  classes the source lacks. The predicted labels are `method.predict`'s.

  Uses `state.ema_params`, the classifier's params themselves unless the
  train step averages them (`StepHParams.ema_decay`).

  `batch = {"input", "label", "mask"}`; `mask` is 0 for padding rows, so a
  split of any size evaluates exactly. Sum the counts over batches and read
  accuracy and per-class recall with `confusion_summary`.
  """
  logits, features = classifier.apply(
    variables(state.ema_params, state.batch_stats["classifier"]),
    batch["input"],
    train=False,
  )
  labels = method.predict(logits, features, state.params, state.batch_stats)
  predicted = jax.nn.one_hot(labels, num_labels)
  truth = jax.nn.one_hot(batch["label"], num_labels) * batch["mask"][:, None]
  return {"confusion": truth.T @ predicted}


def confusion_summary(confusion, unknown: bool = False) -> dict:
  """Accuracy, per-class recall and the confusion matrix from summed counts [L, L].

  A class with no example in the split has no recall (None), not a recall of 0;
  `mean_class_recall` averages the classes that have examples. With `unknown`
  (the last label is "unknown": target classes the source lacks) it adds the
  open-set and universal measures: `os_star`, the mean recall of the known
  classes present; `unk`, the recall of "unknown"; `hos`, their harmonic mean
  (open-set HOS, Bucci et al. 2020; the H-score of universal adaptation,
  Fu et al. 2020, is the same mean over the common classes and unknown).
  """
  confusion = np.asarray(confusion)
  per_class = confusion.sum(axis=1)
  present = per_class > 0
  recall = np.diag(confusion) / np.maximum(per_class, 1)
  out = {
    "accuracy": round(float(np.trace(confusion) / max(confusion.sum(), 1)), 6),
    "per_class_recall": [round(float(r), 4) if p else None for r, p in zip(recall, present)],
    "mean_class_recall": round(float(recall[present].mean()), 6) if present.any() else None,
    "num_examples": int(confusion.sum()),
    "confusion": [[int(c) for c in row] for row in confusion],  # Rows: true class.
  }
  if unknown:
    known = present[:-1]
    os_star = float(recall[:-1][known].mean()) if known.any() else None
    unk = float(recall[-1]) if present[-1] else None
    hos = (
      2 * os_star * unk / (os_star + unk)
      if os_star is not None and unk is not None and os_star + unk > 0
      else (0.0 if os_star is not None and unk is not None else None)
    )
    out.update(
      {k: None if v is None else round(v, 6) for k, v in
       (("os_star", os_star), ("unk", unk), ("hos", hos))}
    )  # fmt: skip
  return out


def make_train_step(**deps):
  """`train_step` with its keyword dependencies bound, ready for jit/pmap."""
  return functools.partial(train_step, **deps)

"""MCD, maximum classifier discrepancy: Saito et al., CVPR 2018, arXiv:1712.02560.

A feature generator G (the backbone) and two classifier heads F1 (the
classifier's own head, the one evaluated) and F2 (a second head of the same
architecture). With d(p, q) = mean |p - q| over classes and examples of the
two heads' softmax outputs, each train step runs three phases:

    A: min over G, F1, F2   CE_S(F1) + CE_S(F2)
    B: min over F1, F2      CE_S(F1) + CE_S(F2) - trade_off * d(F1(G(x_T)), F2(G(x_T)))
    C: min over G           d(F1(G(x_T)), F2(G(x_T))), repeated `num_k` times

so the heads learn to disagree on target images outside the source support
and the generator learns to move them inside it. Each phase is one optimizer
update of only its parameters (their momentum too; the others keep theirs),
as if G and the heads had optimizers of their own; the learning-rate
schedule advances once per train step.

Recipe: the paper's digits recipe has num_k = 4 generator updates per step;
tljax's default is num_k = 2, to keep the step within 2x DANN's cost on the
CPU (measured in the README's method table; num_k = 4 is
`--config.method.mcd.num_k=4`). The paper trains with Adam (lr 2e-4); tljax
uses the shared optimizer, like every method, so the comparison is one of
objectives.
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp

from tljax import core
from tljax.core import classification
from tljax.core import step as step_lib
from tljax.methods import mdd

GENERATOR = "classifier/backbone/"  # Parameter-name prefixes of each phase's parameters.
HEADS = ("classifier/head/", "head2/")


def discrepancy(logits1: jax.Array, logits2: jax.Array) -> jax.Array:
  """d = mean |softmax(logits1) - softmax(logits2)| over examples and classes."""
  return jnp.mean(jnp.abs(jax.nn.softmax(logits1) - jax.nn.softmax(logits2)))


def is_generator(name: str) -> bool:
  return name.startswith(GENERATOR)


def is_head(name: str) -> bool:
  return name.startswith(HEADS)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """MCD: two heads maximise their disagreement on the target, the generator minimises it."""

  streams = (core.SOURCE, core.TARGET)
  labels = {"discrepancy": "disc", "cls_loss2": "cls2"}

  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)
  num_k: int = core.setting(2, core.POSITIVE_INT)

  @property
  def head(self) -> nn.Module:
    return mdd.adversarial_head(self.model, self.num_classes)

  def init(self, rng, logits, features) -> core.Extras:
    params, batch_stats = core.init_network(self.head, rng, features)
    return core.Extras({"head2": params}, {"head2": batch_stats})

  def loss(self, out):
    """Phase A's objective (the one a single-gradient update would take)."""
    return self._source_terms(out, out.logits[core.SOURCE], out.features[core.SOURCE])

  def _source_terms(self, out, logits1, features):
    labels = out.batch[core.SOURCE]["label"]
    logits2 = out.apply("head2", self.head, features)
    cls1 = classification.cross_entropy(logits1, labels).mean()
    cls2 = classification.cross_entropy(logits2, labels).mean()
    metrics = {
      "cls_loss": cls1,
      "cls_loss2": cls2,
      "accuracy": classification.correct(logits1, labels).mean(),
    }
    return cls1 + cls2, metrics

  def update(self, state, batch, rng, step: step_lib.Step):
    rng_a, rng_b, rng_c = jax.random.split(rng, 3)
    state, metrics = self._phase_a(state, batch, rng_a, step)
    state, metrics["discrepancy_heads"] = self._phase_b(state, batch, rng_b, step)
    for k in range(self.num_k):
      state, metrics["discrepancy"] = self._phase_c(
        state, batch, jax.random.fold_in(rng_c, k), step
      )
    return step_lib.finish(step, state, state, metrics)  # Phases leave step and EMA to finish.

  def _phase_a(self, state, batch, rng, step):
    """All parameters, on the source cross-entropy of both heads."""
    forward_rng, method_rng, aug_rng = jax.random.split(rng, 3)
    views = core.augmented_streams(batch, (core.SOURCE,), aug_rng, step.augment)

    def loss_fn(params):
      out = step_lib.forward(step, state, params, views, batch, forward_rng, method_rng)
      loss, metrics = self.loss(out)
      return loss, (dict(metrics, loss=loss), out.batch_stats)

    grads, (metrics, stats) = jax.grad(loss_fn, has_aux=True)(state.params)
    new_state, metrics["grad_norm"] = step_lib.apply_gradients(step, state, grads, stats)
    return new_state, metrics

  def _phase_b(self, state, batch, rng, step):
    """The heads only: fit the source, disagree on the target (features held fixed)."""
    forward_rng, method_rng, aug_rng = jax.random.split(rng, 3)
    views = core.augmented_streams(batch, self.streams, aug_rng, step.augment)
    fixed = step_lib.forward(step, state, state.params, views, batch, forward_rng, method_rng)
    features = {k: jax.lax.stop_gradient(v) for k, v in fixed.features.items()}

    def loss_fn(params):
      out = dataclasses.replace(fixed, params=params, batch_stats=dict(fixed.batch_stats))
      f1_s, f2_s = self._two_heads(out, features[core.SOURCE])
      f1_t, f2_t = self._two_heads(out, features[core.TARGET])
      labels = batch[core.SOURCE]["label"]
      cls = (
        classification.cross_entropy(f1_s, labels).mean()
        + classification.cross_entropy(f2_s, labels).mean()
      )
      disc = discrepancy(f1_t, f2_t)
      return cls - self.trade_off * disc, (disc, out.batch_stats)

    grads, (disc, stats) = jax.grad(loss_fn, has_aux=True)(state.params)
    new_state, _ = step_lib.apply_gradients(step, state, grads, stats, trained=is_head)
    return new_state, disc

  def _phase_c(self, state, batch, rng, step):
    """The generator only: make the heads agree on the target."""
    forward_rng, method_rng, aug_rng = jax.random.split(rng, 3)
    views = core.augmented_streams(batch, (core.TARGET,), aug_rng, step.augment)

    def loss_fn(params):
      out = step_lib.forward(step, state, params, views, batch, forward_rng, method_rng)
      logits2 = out.apply("head2", self.head, out.features[core.TARGET])
      disc = discrepancy(out.logits[core.TARGET], logits2)
      return disc, (disc, out.batch_stats)

    grads, (disc, stats) = jax.grad(loss_fn, has_aux=True)(state.params)
    new_state, _ = step_lib.apply_gradients(step, state, grads, stats, trained=is_generator)
    return new_state, disc

  def _two_heads(self, out, features):
    """(F1, F2) logits on fixed features: the classifier's own head, then head2."""
    stats = out.batch_stats["classifier"]
    f1, head_stats = step_lib.apply_train(
      self.head,
      out.params["classifier"]["head"],
      stats.get("head", {}),
      features,
      out.rng,
      out.dtype,
    )
    if head_stats:
      out.batch_stats["classifier"] = {**stats, "head": head_stats}
    return f1, out.apply("head2", self.head, features)

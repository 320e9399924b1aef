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

from tljax.methods import base, classification, mdd, update
from tljax.models.heads import MLP

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
class Method(base.Method):
  """MCD: two heads maximise their disagreement on the target, the generator minimises it."""

  streams = (base.SOURCE, base.TARGET)
  defaults = {"trade_off": 1.0, "num_k": 2}
  labels = {"discrepancy": "disc", "cls_loss2": "cls2"}

  trade_off: float = 1.0
  num_k: int = 2
  head: nn.Module = MLP((100,), 10)

  @classmethod
  def create(cls, setup: base.Setup) -> "Method":
    return cls(
      trade_off=setup.get("trade_off", base.NON_NEGATIVE),
      num_k=setup.get("num_k", base.POSITIVE_INT),
      head=mdd.adversarial_head(setup.model, setup.num_classes),
    )

  def init(self, rng, logits, features) -> base.Extras:
    params, batch_stats = base.init_network(self.head, rng, features)
    return base.Extras({"head2": params}, {"head2": batch_stats})

  def loss(self, out):
    """Phase A's objective (the one a single-gradient update would take)."""
    return self._source_terms(out, out.logits[base.SOURCE], out.features[base.SOURCE])

  def _source_terms(self, out, logits1, features):
    labels = out.batch[base.SOURCE]["label"]
    logits2 = out.apply("head2", self.head, features)
    cls1 = classification.cross_entropy(logits1, labels).mean()
    cls2 = classification.cross_entropy(logits2, labels).mean()
    metrics = {
      "cls_loss": cls1,
      "cls_loss2": cls2,
      "accuracy": classification.correct(logits1, labels).mean(),
    }
    return cls1 + cls2, metrics

  def update(self, state, batch, rng, step: update.Step):
    rng_a, rng_b, rng_c = jax.random.split(rng, 3)
    state, metrics = self._phase_a(state, batch, rng_a, step)
    state, metrics["discrepancy_heads"] = self._phase_b(state, batch, rng_b, step)
    for k in range(self.num_k):
      state, metrics["discrepancy"] = self._phase_c(
        state, batch, jax.random.fold_in(rng_c, k), step
      )
    return update.finish(step, state, state, metrics)  # Phases leave step and EMA to finish.

  def _phase_a(self, state, batch, rng, step):
    """All parameters, on the source cross-entropy of both heads."""
    forward_rng, method_rng, aug_rng = jax.random.split(rng, 3)
    views = base.augmented_streams(batch, (base.SOURCE,), aug_rng, step.augment)

    def loss_fn(params):
      out = update.forward(step, state, params, views, batch, forward_rng, method_rng)
      loss, metrics = self.loss(out)
      return loss, (dict(metrics, loss=loss), out.batch_stats)

    grads, (metrics, stats) = jax.grad(loss_fn, has_aux=True)(state.params)
    new_state, metrics["grad_norm"] = update.apply_gradients(step, state, grads, stats)
    return new_state, metrics

  def _phase_b(self, state, batch, rng, step):
    """The heads only: fit the source, disagree on the target (features held fixed)."""
    forward_rng, method_rng, aug_rng = jax.random.split(rng, 3)
    views = base.augmented_streams(batch, self.streams, aug_rng, step.augment)
    fixed = update.forward(step, state, state.params, views, batch, forward_rng, method_rng)
    features = {k: jax.lax.stop_gradient(v) for k, v in fixed.features.items()}

    def loss_fn(params):
      out = dataclasses.replace(fixed, params=params, batch_stats=dict(fixed.batch_stats))
      f1_s, f2_s = self._two_heads(out, features[base.SOURCE])
      f1_t, f2_t = self._two_heads(out, features[base.TARGET])
      labels = batch[base.SOURCE]["label"]
      cls = (
        classification.cross_entropy(f1_s, labels).mean()
        + classification.cross_entropy(f2_s, labels).mean()
      )
      disc = discrepancy(f1_t, f2_t)
      return cls - self.trade_off * disc, (disc, out.batch_stats)

    grads, (disc, stats) = jax.grad(loss_fn, has_aux=True)(state.params)
    new_state, _ = update.apply_gradients(step, state, grads, stats, trained=is_head)
    return new_state, disc

  def _phase_c(self, state, batch, rng, step):
    """The generator only: make the heads agree on the target."""
    forward_rng, method_rng, aug_rng = jax.random.split(rng, 3)
    views = base.augmented_streams(batch, (base.TARGET,), aug_rng, step.augment)

    def loss_fn(params):
      out = update.forward(step, state, params, views, batch, forward_rng, method_rng)
      logits2 = out.apply("head2", self.head, out.features[base.TARGET])
      disc = discrepancy(out.logits[base.TARGET], logits2)
      return disc, (disc, out.batch_stats)

    grads, (disc, stats) = jax.grad(loss_fn, has_aux=True)(state.params)
    new_state, _ = update.apply_gradients(step, state, grads, stats, trained=is_generator)
    return new_state, disc

  def _two_heads(self, out, features):
    """(F1, F2) logits on fixed features: the classifier's own head, then head2."""
    stats = out.batch_stats["classifier"]
    f1, head_stats = update.apply_train(
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

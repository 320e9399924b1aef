"""MCC, minimum class confusion: Jin, Wang, Long & Wang, ECCV 2020, arXiv:1912.03699.

    L = L_base + trade_off * L_MCC(target),
    Ŷ = softmax(logits_T / T),  w_i = B (1 + exp(-H(Ŷ_i))) / Σ_j (1 + exp(-H(Ŷ_j))),
    C = Ŷᵀ diag(w) Ŷ  (K × K),  C̃_jj' = C_jj' / Σ_j'' C_jj'',
    L_MCC = (Σ_jj' C̃_jj' - Σ_j C̃_jj) / K

the mean (over classes) of how much of each class's certainty-weighted
probability mass on the target batch falls on the other classes. It needs no
extra network, so it works alone (`base: source_only`, the paper's MCC) or on
top of another method with the default update (`--config.method.mcc.base=dann`).

Recipe: Transfer-Learning-Library's (the paper has no digits experiment):
temperature T = 2.5, trade-off 1.
"""

import dataclasses

import jax
import jax.numpy as jnp

from tljax import core, methods
from tljax.errors import ConfigError
from tljax.losses import entropy


def class_confusion(logits: jax.Array, temperature: float) -> jax.Array:
  """L_MCC of target logits [B, K] (see the module docstring); weights without gradient."""
  probs = jax.nn.softmax(logits / temperature)
  w = entropy.certainty(probs)
  w = logits.shape[0] * w / w.sum()
  confusion = (probs * w[:, None]).T @ probs
  confusion = confusion / confusion.sum(axis=1, keepdims=True)
  k = logits.shape[-1]
  return (confusion.sum() - jnp.trace(confusion)) / k


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """MCC on the target's predictions, added to a base method's loss."""

  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)
  temperature: float = core.setting(2.5, core.POSITIVE)
  base: str = core.setting("source_only")  # The method MCC is added to.
  inner: core.Method | None = None  # `base` as the run configures it; None: at its defaults.

  @classmethod
  def create(cls, setup: core.Setup) -> "Method":
    method = super().create(setup)
    if method.base == "mcc":
      raise ConfigError("config.method.mcc.base='mcc' would wrap itself; choose another method")
    inner = methods.build(setup, method.base)
    if type(inner).update is not core.Method.update:
      raise ConfigError(
        f"config.method.mcc.base={method.base!r} has its own update; choose a method with one "
        "gradient step per train step (e.g. source_only, dann, cdan)"
      )
    if inner.reads_target_labels:
      raise ConfigError(
        f"config.method.mcc.base={method.base!r} trains on target labels; MCC adapts"
      )
    return dataclasses.replace(method, inner=inner)

  @property
  def wrapped(self) -> core.Method:
    """The base method: `inner`, or `base` at its default settings on this run."""
    if self.inner is not None:
      return self.inner
    context = {k: getattr(self, k) for k in ("num_classes", "num_steps", "model", "input_shape")}
    return methods.find(self.base)(**context)

  @property
  def streams(self) -> tuple[str, ...]:
    inner = tuple(self.wrapped.streams)
    return inner if core.TARGET in inner else (*inner, core.TARGET)

  @property
  def labels(self) -> dict[str, str]:
    return {**self.wrapped.labels, "mcc_loss": "mcc"}

  def init(self, rng, logits, features) -> core.Extras:
    return self.wrapped.init(rng, logits, features)

  def monitors(self) -> list:
    return self.wrapped.monitors()

  def views(self, batch, rng, augment):
    if core.TARGET in self.wrapped.streams:
      return self.wrapped.views(batch, rng, augment)
    return core.augmented_streams(batch, self.streams, rng, augment)

  def loss(self, out):
    loss, metrics = self.wrapped.loss(out)
    mcc = class_confusion(out.logits[core.TARGET], self.temperature)
    return loss + self.trade_off * mcc, {**metrics, "mcc_loss": mcc}

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

from tljax.errors import ConfigError
from tljax.methods import base


def class_confusion(logits: jax.Array, temperature: float) -> jax.Array:
  """L_MCC of target logits [B, K] (see the module docstring); weights without gradient."""
  probs = jax.nn.softmax(logits / temperature)
  h = -jnp.sum(probs * jnp.log(probs + 1e-5), axis=-1)
  w = jax.lax.stop_gradient(1.0 + jnp.exp(-h))
  w = logits.shape[0] * w / w.sum()
  confusion = (probs * w[:, None]).T @ probs
  confusion = confusion / confusion.sum(axis=1, keepdims=True)
  k = logits.shape[-1]
  return (confusion.sum() - jnp.trace(confusion)) / k


@dataclasses.dataclass(frozen=True)
class Method(base.Method):
  """MCC on the target's predictions, added to a base method's loss."""

  defaults = {"trade_off": 1.0, "temperature": 2.5, "base": "source_only"}

  trade_off: float = 1.0
  temperature: float = 2.5
  inner: base.Method = base.Method()

  @classmethod
  def create(cls, setup: base.Setup) -> "Method":
    name = setup.get("base")
    if name == "mcc":
      raise ConfigError("config.method.mcc.base='mcc' would wrap itself; choose another method")
    inner = setup.build(name)
    if type(inner).update is not base.Method.update:
      raise ConfigError(
        f"config.method.mcc.base={name!r} has its own update; choose a method with one "
        "gradient step per train step (e.g. source_only, dann, cdan)"
      )
    if base.TARGET_LABELLED in inner.streams:
      raise ConfigError(f"config.method.mcc.base={name!r} trains on target labels; MCC adapts")
    return cls(
      trade_off=setup.get("trade_off", base.NON_NEGATIVE),
      temperature=setup.get("temperature", base.POSITIVE),
      inner=inner,
    )

  @property
  def streams(self) -> tuple[str, ...]:
    inner = tuple(self.inner.streams)
    return inner if base.TARGET in inner else (*inner, base.TARGET)

  @property
  def labels(self) -> dict[str, str]:
    return {**self.inner.labels, "mcc_loss": "mcc"}

  def init(self, rng, logits, features) -> base.Extras:
    return self.inner.init(rng, logits, features)

  def views(self, batch, rng, augment):
    if base.TARGET in self.inner.streams:
      return self.inner.views(batch, rng, augment)
    return base.augmented_streams(batch, self.streams, rng, augment)

  def loss(self, out):
    loss, metrics = self.inner.loss(out)
    mcc = class_confusion(out.logits[base.TARGET], self.temperature)
    return loss + self.trade_off * mcc, {**metrics, "mcc_loss": mcc}

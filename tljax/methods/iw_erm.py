"""Importance-weighted ERM: covariate-shift correction (Shimodaira 2000; Sugiyama et al. 2007).

    L = sum_i w_i CE(x_i^s, y_i^s) / sum_i w_i  +  L_domain(d)
    w(x) = p(target | x) / p(source | x) = exp(d(x))  (equal batch shares)

Under covariate shift (p(y|x) shared, p(x) not), the target risk is the
source risk weighted by the density ratio p_t(x) / p_s(x). A logistic domain
classifier d (`hidden` layers; () is logistic regression) estimates it,
trained on its own loss beside the classifier, on the classifier's features
with their gradient stopped (`on="features"`: it re-weights, it never moves
the representation) or on the inputs (`on="inputs"`: 8 x 8 pooled pixels,
or bags of words, as kmm and kliep compare them).
The weights are clipped at `clip`, then self-normalised to mean 1 over the
source batch; for the first `warmup_fraction` of training they are 1 while d
learns. Logged: `ess`, the effective sample size (sum w)^2 / (B sum w^2) as a
fraction of the batch (1: uniform weights), and the largest weight.

Re-weighting helps only where the source covers the target (support overlap)
and the model is misspecified; with little overlap the ESS collapses and the
weighted risk is noise (docs/results.md reports both cases).
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from tljax import core, models
from tljax.core import classification
from tljax.losses.adversarial import domain_correct, domain_labels, domain_loss
from tljax.losses.instance_weights import SIDE, effective_sample_size, pool
from tljax.models.audio import SUMMARY_MELS
from tljax.models.discriminator import DomainDiscriminator


def normalized_weights(logits: jax.Array, clip: float) -> jax.Array:
  """exp(domain logits) [B], clipped at `clip`, scaled to mean 1."""
  w = jnp.minimum(jnp.exp(logits), clip)
  return w / jnp.maximum(w.mean(), 1e-12)


def pooled_size(shape, kind: str = "images") -> int:
  """Length of `pool` of one input of `shape` (`kind` as `models.modality` names it): 8 x 8 x C
  for images, V for a bag of words, two statistics per mel band for audio.

  0 when the shape is unknown (a config check before the data is loaded).
  """
  if shape is None:
    return 0
  if kind == "audio":
    return 2 * SUMMARY_MELS
  if len(shape) == 3:
    return SIDE * SIDE * shape[-1]
  return int(np.prod(shape))


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Source cross-entropy weighted by a domain classifier's density ratio."""

  streams = (core.SOURCE, core.TARGET)
  labels = {"domain_loss": "dom", "ess": "ess", "max_weight": "wmax"}

  clip: float = core.setting(10.0, (lambda v: v > 1, "> 1 (the largest weight)"))
  warmup_fraction: float = core.setting(0.1, (lambda v: 0 <= v < 1, "in [0, 1)"))
  hidden: tuple[int, ...] = core.setting((), core.WIDTHS)  # (): logistic regression.
  on: str = core.setting("features", core.one_of(("features", "inputs")))

  @property
  def warmup_steps(self) -> int:
    return int(self.warmup_fraction * self.num_steps)

  @property
  def input_size(self) -> int:
    """Length of a pooled input (on="inputs"); 0 while the input shape is unknown."""
    kind = models.modality(self.model.name) if self.model else "images"
    return pooled_size(self.input_shape, kind)

  @property
  def domain_classifier(self):
    return DomainDiscriminator(hidden=self.hidden)

  def init(self, rng, logits, features):
    del logits
    if self.on == "inputs":
      if not self.input_size:
        raise ValueError("iw_erm on='inputs' needs the input shape (methods.create's input_shape)")
      features = jnp.zeros((2, self.input_size))
    params, stats = core.init_network(self.domain_classifier, rng, features)
    return core.Extras(params={"domain": params}, batch_stats={"domain": stats})

  def loss(self, out):
    source_logits = out.logits[core.SOURCE]
    labels = out.batch[core.SOURCE]["label"]
    if self.on == "inputs":
      seen = pool(jnp.concatenate([out.batch[s]["input"] for s in self.streams]))
    else:
      seen = jnp.concatenate([out.features[core.SOURCE], out.features[core.TARGET]])
    d = out.apply("domain", self.domain_classifier, jax.lax.stop_gradient(seen))
    n = source_logits.shape[0]
    domains = domain_labels(n, seen.shape[0])
    d_loss = domain_loss(d, domains).mean()
    w = normalized_weights(jax.lax.stop_gradient(d[:n]), self.clip)
    w = jnp.where(out.step < self.warmup_steps, jnp.ones_like(w), w)
    ce = classification.cross_entropy(source_logits, labels)
    cls_loss = (w * ce).mean()
    return cls_loss + d_loss, {
      "cls_loss": cls_loss,
      "accuracy": classification.correct(source_logits, labels).mean(),
      "domain_loss": d_loss,
      "domain_acc": domain_correct(d, domains).mean(),
      "ess": effective_sample_size(w),
      "max_weight": w.max(),
    }

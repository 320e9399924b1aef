"""Shared by the instance-weighting methods (kmm.py, kliep.py): inputs, kernels, the loss.

They weight each labelled source example once, before training, from both
training sets (`Method.prepare`), and train on the weighted source risk.
`space="pixels"` compares images as 8 x 8 average-pooled pixels per channel
in [0, 1], text bags as they are and audio as its mel bands' log-power mean
and spread (`models.audio.band_statistics`; token ids: not supported);
`space="features"` compares the features of the run's starting network: a
pretrained one, from `config.model.init_checkpoint` or `model.torch_weights`.
"""

import logging

import jax
import jax.numpy as jnp
import numpy as np

from tljax import core
from tljax.core import classification
from tljax.errors import ConfigError
from tljax.models import audio as audio_model

log = logging.getLogger("tljax")

SIDE = 8
SPACES = ("pixels", "features")


def pool(x: jax.Array) -> jax.Array:
  """[N, D] float32 vectors of images [N, H, W, C] (pooled to 8 x 8, in [0, 1]), bags [N, V]
  or int16 waveforms [N, T] (each mel band's mean and spread of log power).

  ConfigError for token ids [N, L] (integers with no pixel space).
  """
  if x.ndim == 2 and x.dtype == jnp.int16:
    return audio_model.band_statistics(x)
  if x.ndim != 4 and not jnp.issubdtype(x.dtype, jnp.floating):
    raise ConfigError("instance weighting compares images, audio or bags of words, not token ids")
  if x.ndim == 4:
    n, _, _, c = x.shape
    x = jax.image.resize(
      x.astype(jnp.float32) / 255.0, (n, SIDE, SIDE, c), "linear", antialias=True
    )
  return x.reshape(x.shape[0], -1).astype(jnp.float32)


def pooled(inputs) -> np.ndarray:
  """`pool` of a whole training set, as numpy."""
  return np.asarray(pool(jnp.asarray(np.asarray(inputs))))


def median_bandwidth(a: np.ndarray, b: np.ndarray, seed: int = 0) -> float:
  """The median pairwise distance over (up to 1,000 of) both sets: the usual kernel width."""
  rng = np.random.default_rng(seed)
  both = np.concatenate([a, b])
  sample = both[rng.permutation(len(both))[:1000]]
  d2 = ((sample[:, None] - sample[None]) ** 2).sum(-1)
  return float(np.sqrt(np.median(d2[d2 > 0])))


def gaussian(a: jax.Array, b: jax.Array, width: float) -> jax.Array:
  """exp(-|a_i - b_j|^2 / (2 width^2)) [N, M]."""
  d2 = (a**2).sum(1)[:, None] + (b**2).sum(1)[None] - 2 * a @ b.T
  return jnp.exp(-jnp.maximum(d2, 0) / (2 * width**2))


def effective_sample_size(w):
  """(sum w)^2 / (N sum w^2) of weights [N]: 1 for equal weights, 1/N for one weight."""
  return w.sum() ** 2 / (w.shape[0] * jnp.maximum((w**2).sum(), 1e-12))


def weighted_source_risk(out) -> tuple[jax.Array, dict]:
  """Mean weight x cross-entropy on the source batch (weights from `batch["weight"]`)."""
  logits, labels = out.logits[core.SOURCE], out.batch[core.SOURCE]["label"]
  w = out.batch[core.SOURCE].get("weight", jnp.ones(labels.shape[0]))
  w = w / jnp.maximum(w.mean(), 1e-12)
  loss = (w * classification.cross_entropy(logits, labels)).mean()
  return loss, {
    "cls_loss": loss,
    "accuracy": classification.correct(logits, labels).mean(),
    "ess": effective_sample_size(w),
  }


def check_space(method) -> None:
  """ConfigError unless `method.space` can mean something: "features" needs pretrained weights."""
  model = method.model
  if method.space == "features" and not (model.init_checkpoint or model.torch_weights):
    raise ConfigError(
      f"config.method.{method.name}.space='features' compares the features of a pretrained "
      "network: set config.model.init_checkpoint (a finished run) or model.torch_weights, "
      "or use space='pixels'"
    )


def fit(name: str, solve, start: core.Start, space: str) -> core.Prepared:
  """`solve(source [Ns, D], target [Nt, D], kernel width)` in `space`; logs the ESS."""
  source, target = start.sets[core.SOURCE]["input"], start.sets[core.TARGET]["input"]
  if space == "features":
    s, t = (np.asarray(start.outputs(x)[1], np.float32) for x in (source, target))
  else:
    s, t = pooled(source), pooled(target)
  w = solve(s, t, median_bandwidth(s, t))
  ess = float(effective_sample_size(np.asarray(w, np.float64)))
  log.info("%s: weights of %d source examples (%s), ESS %.3f", name, len(w), space, ess)
  return core.Prepared(source_weights=w)

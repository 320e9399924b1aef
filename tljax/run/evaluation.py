"""What a run reports about a state: accuracies, discrepancy, label-free validators.

Every function reads target *test* labels only to report accuracy; the
validator scores read source labels and unlabelled target images only.
"""

import logging

import jax
from jax.experimental import multihost_utils
import numpy as np

from tljax import models
from tljax.analysis import discrepancy, validators
from tljax.core import step as steps
from tljax.data import images
from tljax.data import streams as streams_lib
from tljax.models import audio as audio_model

log = logging.getLogger("tljax")

SUBSET = 2000  # Examples per split used for PAD and validators (first N of each).


def evaluate(eval_fn, state, arrays: dict, batch_size: int, unknown: bool = False) -> dict:
  """Accuracy etc. on a split; with several processes, over every process's shard.

  `unknown`: the split may hold the "unknown" label (target classes the
  source lacks): the summary adds OS*, UNK and HOS (`confusion_summary`).
  """
  confusion = sum(
    np.asarray(eval_fn(state, batch)["confusion"])
    for batch in streams_lib.eval_batches(arrays, batch_size)
  )
  if jax.process_count() > 1:
    confusion = np.asarray(multihost_utils.process_allgather(confusion)).sum(axis=0)
  return steps.confusion_summary(confusion, unknown)


def evaluate_all(eval_fn, state, data, batch_size: int) -> dict:
  """`evaluate` on source_test (unless source-free) and target_test, and target_val if held out."""
  out = {}
  if not data.source_free:
    out["source_test"] = evaluate(eval_fn, state, data.source_test, batch_size)
  out["target_test"] = evaluate(eval_fn, state, data.target_test, batch_size, data.unknown)
  if data.target_val is not None:
    out["target_val"] = evaluate(eval_fn, state, data.target_val, batch_size, data.unknown)
  return out


LABEL_SET_MEASURES = ("os_star", "unk", "hos")  # Where the target has an "unknown" class.


def log_eval(step: int, results: dict, prefix: str = "") -> None:
  parts = " | ".join(
    f"{split} acc {r['accuracy']:.4f}"
    + "".join(f" {k} {r[k]:.4f}" for k in LABEL_SET_MEASURES if r.get(k) is not None)
    for split, r in results.items()
  )
  log.info("%seval step %d | %s", prefix, step, parts)


class Evaluator:
  """The classifier's (logits, features) for in-memory splits, with eval weights."""

  def __init__(self, config, num_outputs: int):
    classifier = models.build_classifier(config.model, num_outputs)

    def apply(params, batch_stats, images):
      variables = {"params": params, **({"batch_stats": batch_stats} if batch_stats else {})}
      return classifier.apply(variables, images, train=False)

    self._apply = jax.jit(apply)
    self.batch_size = config.data.eval_batch_size

  def outputs(self, state, arrays: dict) -> tuple[np.ndarray, np.ndarray]:
    """(logits [N, K], features [N, D]) for `arrays["input"]`."""
    logits, features = [], []
    for batch in streams_lib.eval_batches({"input": arrays["input"]}, self.batch_size):
      out = self._apply(state.ema_params, state.batch_stats["classifier"], batch["input"])
      keep = batch["mask"] > 0
      logits.append(np.asarray(out[0])[keep])
      features.append(np.asarray(out[1])[keep])
    return np.concatenate(logits), np.concatenate(features)


def _first(arrays: dict, n: int = SUBSET) -> dict:
  return {k: v[:n] for k, v in arrays.items()}


PIXELS_SIZE = 32  # Larger images are resized to this for the pixel-space distance.


def input_vectors(arrays: dict, batch_size: int) -> np.ndarray:
  """The inputs as flat vectors in [0, 1] (images: pixels at most 32 x 32), batch by batch.

  Streamed images are decoded one evaluation batch at a time and shrunk before
  the next is read: only the small vectors are kept.
  """
  parts = []
  for batch in streams_lib.eval_batches({"input": arrays["input"]}, batch_size):
    x = batch["input"][batch["mask"] > 0]
    if x.dtype == np.uint8:
      if x.ndim == 4 and x.shape[1] > PIXELS_SIZE:
        x = images.resize_images(x, PIXELS_SIZE, chunk=64)
      x = x.astype(np.float64) / 255.0
    elif x.dtype == np.int16:  # Audio: each mel band's mean and spread of log power over time.
      x = np.asarray(audio_model.band_statistics(x))
    parts.append(x.reshape(len(x), -1))
  return np.concatenate(parts)


def domain_discrepancy(evaluator: Evaluator, state, data, seed: int) -> dict:
  """Proxy A-distance between source_test and target_test, in features and in the input.

  The input is the pixels (key "pixels"; at most 32x32) for images, the bag of n-grams (key
  "inputs") for text, each log-mel band's mean and standard deviation over time (key
  "inputs", 16 kHz front end defaults) for audio; token ids have no input-space distance.
  """
  if data.source_free:
    return {"features": None, "not_computed": "a source-free run holds no source data"}
  source, target = _first(data.source_test), _first(data.target_test)
  fewest = min(len(source["label"]), len(target["label"]))
  if fewest < discrepancy.MIN_EXAMPLES:  # A tiny folder: nothing to split into train and test.
    return {
      "features": None,
      "not_computed": f"needs {discrepancy.MIN_EXAMPLES} test examples per domain, has {fewest}",
    }
  is_image = source["input"].dtype == np.uint8
  inputs = lambda a: input_vectors(a, evaluator.batch_size)  # noqa: E731
  features = lambda a: evaluator.outputs(state, a)[1]  # noqa: E731
  pad = discrepancy.proxy_a_distance
  out = {
    "features": round(pad(features(source), features(target), seed=seed), 4),
    "classifier": discrepancy.CLASSIFIER,
    "data": f"source_test vs target_test, first {SUBSET} examples of each",
  }
  dtype = source["input"].dtype
  if is_image or dtype == np.int16 or np.issubdtype(dtype, np.floating):  # Not token ids.
    out["pixels" if is_image else "inputs"] = round(pad(inputs(source), inputs(target), seed), 4)
  return out


def validator_scores(evaluator: Evaluator, state, data, seed: int) -> dict:
  """Every label-free validator's score for `state` (see tljax.analysis.validators).

  Uses source_val (labelled), the first SUBSET source_train images (for the
  density ratios) and the first SUBSET target_train images (unlabelled). A
  source-free run gets the validators that read the target's inputs alone
  (`validators.TARGET_ONLY`: entropy, information maximisation); the others
  do not apply.
  """
  if data.source_free:
    target_logits, _ = evaluator.outputs(state, _first(data.target_train))
    target_probs = np.asarray(jax.nn.softmax(target_logits, axis=-1), np.float64)
    scores = {name: getattr(validators, name)(target_probs) for name in validators.TARGET_ONLY}
    return {k: round(v, 5) for k, v in scores.items()}
  val_logits, val_features = evaluator.outputs(state, data.source_val)
  _, source_features = evaluator.outputs(state, _first(data.source_train))
  target_logits, target_features = evaluator.outputs(state, _first(data.target_train))
  errors = (val_logits.argmax(-1) != data.source_val["label"]).astype(np.float64)
  weights = validators.density_ratios(source_features, target_features, val_features, seed)
  target_probs = np.asarray(jax.nn.softmax(target_logits, axis=-1), np.float64)
  scores = {
    "source_risk": validators.source_risk(errors),
    "iwcv": validators.iwcv(errors, weights),
    "dev": validators.dev(errors, weights),
    "entropy": validators.entropy(target_probs),
    "info_max": validators.info_max(target_probs),
    "reverse": validators.reverse(
      target_features, target_logits.argmax(-1), val_features, data.source_val["label"]
    ),
  }
  return {k: round(v, 5) for k, v in scores.items()}


def selections(history: list[dict]) -> dict:
  """For each validator, the evaluated step it picks and that step's target test accuracy.

  `oracle_val` picks by target *validation* accuracy (`data.target_val_size`):
  oracle selection, which reads target labels, but not the test split's.
  `oracle_test` picks by target test accuracy itself: a ceiling, never a
  reported result.
  """
  scored = [h for h in history if "validators" in h]
  picks = {}
  for name in validators.HIGHER_IS_BETTER:
    pick = validators.select([{**h, **h["validators"]} for h in scored], name)
    if pick is not None:
      picks[name] = {"step": pick["step"], "target_test_accuracy": pick["target_test_accuracy"]}
  for name, key in (("oracle_val", "target_val_accuracy"), ("oracle_test", "target_test_accuracy")):
    if all(key in h for h in history):
      best = max(history, key=lambda h: h[key])
      picks[name] = {"step": best["step"], "target_test_accuracy": best["target_test_accuracy"]}
  return picks

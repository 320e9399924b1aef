"""Model selection without target labels: scores computed from what is allowed.

Each function scores one model (a checkpoint or a hyperparameter setting);
`HIGHER_IS_BETTER` says which way each score points. None of them reads a
target label: they use labelled *source validation* data, unlabelled target
data, and the model's outputs on both.

  source_risk   error on held-out source data (ignores the shift).
  iwcv          importance-weighted source validation error (Sugiyama et al.
                2007), weights w(x) = p_t(x) / p_s(x) from a domain classifier.
  dev           deep embedded validation (You et al. 2019): IWCV with the
                weights as a control variate, lower variance.
  entropy       mean prediction entropy on target data (lower: more confident).
  info_max      H(mean prediction) - mean H(prediction) on target data
                (confident and class-balanced; higher is better).
  reverse       reverse validation (Ganin et al. 2016, Sec. 5.1.2), feature-level:
                a classifier trained on target features with the model's
                pseudo-labels, scored on labelled source validation features.
  reverse_dann  the paper's network-level reverse validation: a whole reverse
                DANN network trained on the pseudo-labelled target
                (tljax/train/reverse.py); final checkpoints only.
"""

import numpy as np

from tljax.analysis import discrepancy

HIGHER_IS_BETTER = {
  "source_risk": False,
  "iwcv": False,
  "dev": False,
  "entropy": False,
  "info_max": True,
  "reverse": True,
  "reverse_dann": True,
}
# Those that read the target's inputs alone: the ones that apply without source data (source-free).
TARGET_ONLY = ("entropy", "info_max")


def _entropy(probs: np.ndarray) -> np.ndarray:
  return -np.sum(probs * np.log(np.clip(probs, 1e-12, 1.0)), axis=-1)


def source_risk(losses_val: np.ndarray) -> float:
  """Mean loss (e.g. 0/1 error) on source validation examples."""
  return float(np.mean(losses_val))


def density_ratios(
  source_train: np.ndarray, target_train: np.ndarray, source_val: np.ndarray, seed: int = 0
) -> np.ndarray:
  """w(x) = p_t(x) / p_s(x) at `source_val`, from a logistic domain classifier.

  With d(x) = P(target | x) from a classifier trained on n_s source and n_t
  target examples, Bayes gives w(x) = d / (1 - d) * n_s / n_t.
  """
  x = np.concatenate([source_train, target_train]).astype(np.float64)
  y = np.concatenate([np.zeros(len(source_train)), np.ones(len(target_train))])
  model = discrepancy.logistic_regression()
  model.fit(x, y)
  d = np.clip(model.predict_proba(source_val.astype(np.float64))[:, 1], 1e-6, 1 - 1e-6)
  return d / (1.0 - d) * len(source_train) / len(target_train)


def iwcv(losses_val: np.ndarray, weights: np.ndarray) -> float:
  """Importance-weighted validation risk: mean(w * loss)."""
  return float(np.mean(weights * losses_val))


def dev(losses_val: np.ndarray, weights: np.ndarray) -> float:
  """Deep embedded validation risk: IWCV with control variate w (E_s[w] = 1)."""
  weighted = weights * losses_val
  var_w = np.var(weights, ddof=1)
  eta = -np.cov(weighted, weights)[0, 1] / var_w if var_w > 0 else 0.0
  return float(np.mean(weighted) + eta * np.mean(weights) - eta)


def entropy(target_probs: np.ndarray) -> float:
  """Mean entropy of the predicted class distributions on target data."""
  return float(np.mean(_entropy(target_probs)))


def info_max(target_probs: np.ndarray) -> float:
  """Mutual information between inputs and predictions: H(E[p]) - E[H(p)]."""
  return float(_entropy(target_probs.mean(axis=0)) - np.mean(_entropy(target_probs)))


def reverse(
  target_features: np.ndarray,
  target_pseudo_labels: np.ndarray,
  source_val_features: np.ndarray,
  source_val_labels: np.ndarray,
) -> float:
  """Accuracy on source validation of a classifier fit to pseudo-labelled target."""
  if len(np.unique(target_pseudo_labels)) < 2:
    return 0.0  # One pseudo-class: the reverse classifier cannot learn anything.
  model = discrepancy.logistic_regression()
  model.fit(target_features.astype(np.float64), target_pseudo_labels)
  return float(np.mean(model.predict(source_val_features.astype(np.float64)) == source_val_labels))


def select(history: list[dict], name: str) -> dict | None:
  """The history entry (one per evaluated checkpoint) that validator `name` picks.

  Entries without a `name` score are not candidates; None if no entry has one.
  """
  scored = [h for h in history if name in h]
  if not scored:
    return None
  key = (lambda h: h[name]) if HIGHER_IS_BETTER[name] else (lambda h: -h[name])
  return max(scored, key=key)

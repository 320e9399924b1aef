"""Scores that rank pretrained sources for a labelled target before fine-tuning.

Each reads what one forward pass of a candidate over the labelled target
training split gives: its penultimate features [N, D] and/or its source-task
softmax predictions [N, Z], with the target labels [N]. Higher is better.

- LogME (You et al. 2021): the log marginal evidence of a Bayesian linear
  model from the features to each one-hot target column, maximised over its
  prior precision alpha and noise precision beta, per example, averaged over
  classes.
- LEEP (Nguyen et al. 2020): the log-likelihood of the target labels under the
  "expected empirical predictor" sum_z P(y|z) theta(x)_z, with P(y|z) from
  the empirical joint of target labels and source predictions.
- NCE (Tran et al. 2019): -H(Y|Z), with Z the source model's hard predictions.
- H-score (Bao et al. 2019): tr(cov(f)^-1 cov(E[f|y])), how well the
  features separate the target classes relative to their spread.
"""

import numpy as np


def log_me(features: np.ndarray, labels: np.ndarray, max_iter: int = 100) -> float:
  """LogME of `features` [N, D] for integer `labels` [N] (mean over classes, per example)."""
  f = np.asarray(features, np.float64)
  n, d = f.shape
  u, s, _ = np.linalg.svd(f, full_matrices=False)
  sigma = np.zeros(d)
  sigma[: len(s)] = s**2  # Eigenvalues of F^T F; zero beyond the rank.
  evidences = []
  for k in np.unique(labels):
    y = (labels == k).astype(np.float64)
    evidences.append(_evidence(u, sigma, y, n, d, max_iter)[0] / n)
  return float(np.mean(evidences))


def _evidence(u, sigma, y, n, d, max_iter):
  """(log evidence, alpha, beta) of y [N] after MacKay's fixed-point updates."""
  z2 = np.zeros(d)
  z2[: u.shape[1]] = (u.T @ y) ** 2
  outside = max(float(y @ y - z2.sum()), 0.0)  # |y|^2 outside the features' span.
  alpha, beta = 1.0, 1.0
  for _ in range(max_iter):
    t = alpha / beta
    gamma = float((sigma / (sigma + t)).sum())
    m2 = float((sigma * z2 / (sigma + t) ** 2).sum())  # |m|^2, m the posterior mean.
    res2 = float((z2 / (1 + sigma / t) ** 2).sum()) + outside  # |F m - y|^2.
    new_alpha, new_beta = gamma / (m2 + 1e-12), (n - gamma) / (res2 + 1e-12)
    converged = abs(new_alpha / new_beta - t) / t < 1e-5
    alpha, beta = new_alpha, new_beta
    if converged:
      break
  t = alpha / beta
  m2 = float((sigma * z2 / (sigma + t) ** 2).sum())
  res2 = float((z2 / (1 + sigma / t) ** 2).sum()) + outside
  evidence = (
    d / 2 * np.log(alpha)
    + n / 2 * np.log(beta)
    - 0.5 * np.log(alpha + beta * sigma).sum()
    - beta / 2 * res2
    - alpha / 2 * m2
    - n / 2 * np.log(2 * np.pi)
  )
  return float(evidence), alpha, beta


def leep(source_probs: np.ndarray, labels: np.ndarray) -> float:
  """LEEP of source predictions [N, Z] (rows sum to 1) for integer `labels` [N]."""
  theta = np.asarray(source_probs, np.float64)
  n = len(labels)
  classes = np.unique(labels)
  one_hot = (labels[:, None] == classes[None, :]).astype(np.float64)  # [N, Y]
  joint = one_hot.T @ theta / n  # P(y, z) [Y, Z]
  conditional = joint / np.maximum(joint.sum(0, keepdims=True), 1e-300)  # P(y | z)
  expected = theta @ conditional.T  # [N, Y]: sum_z P(y|z) theta_z
  picked = expected[np.arange(n), np.searchsorted(classes, labels)]
  return float(np.mean(np.log(np.maximum(picked, 1e-300))))


def nce(source_probs: np.ndarray, labels: np.ndarray) -> float:
  """NCE: -H(Y | Z) with Z = argmax of the source predictions [N, Z]."""
  z = np.asarray(source_probs).argmax(-1)
  n = len(labels)
  _, y = np.unique(labels, return_inverse=True)
  _, z = np.unique(z, return_inverse=True)
  joint = np.zeros((y.max() + 1, z.max() + 1))
  np.add.at(joint, (y, z), 1.0 / n)
  conditional = joint / joint.sum(0, keepdims=True)
  nonzero = joint > 0
  return float((joint[nonzero] * np.log(conditional[nonzero])).sum())


def h_score(features: np.ndarray, labels: np.ndarray) -> float:
  """tr(cov(f)^+ cov(E[f | y])) of `features` [N, D]."""
  f = np.asarray(features, np.float64)
  f = f - f.mean(0)
  cov_f = f.T @ f / len(f)
  class_means = np.zeros_like(f)
  for k in np.unique(labels):
    members = labels == k
    class_means[members] = f[members].mean(0)
  cov_g = class_means.T @ class_means / len(f)
  return float(np.trace(np.linalg.pinv(cov_f, rcond=1e-10) @ cov_g))


SCORES = {
  "logme": ("features", log_me),
  "leep": ("probs", leep),
  "nce": ("probs", nce),
  "h_score": ("features", h_score),
}

"""Validators on synthetic cases whose right answer is known."""

import numpy as np

from tljax.analysis import validators


def _shifted_gaussians(n=4000, seed=0):
  rng = np.random.default_rng(seed)
  source = rng.normal(0.0, 1.0, (n, 1))
  target = rng.normal(1.0, 1.0, (n, 1))
  val = rng.normal(0.0, 1.0, (n, 1))
  return source, target, val


def test_density_ratios_match_the_analytic_ratio_of_two_gaussians():
  # p_t / p_s for N(1, 1) over N(0, 1) is exp(x - 1/2).
  source, target, val = _shifted_gaussians()
  w = validators.density_ratios(source, target, val)
  analytic = np.exp(val[:, 0] - 0.5)
  inside = np.abs(val[:, 0]) < 2  # Where both densities have data.
  assert np.median(np.abs(w[inside] / analytic[inside] - 1)) < 0.1
  assert abs(w.mean() - 1.0) < 0.1  # E_s[w] = 1.


def test_iwcv_and_dev_estimate_the_target_risk_from_source_data():
  # Loss 1[x > 0.5]: source risk P(N(0,1) > .5) = .309, target risk P(N(1,1) > .5) = .691.
  source, target, val = _shifted_gaussians()
  losses = (val[:, 0] > 0.5).astype(float)
  w = validators.density_ratios(source, target, val)
  assert abs(validators.source_risk(losses) - 0.309) < 0.03
  assert abs(validators.iwcv(losses, w) - 0.691) < 0.05
  assert abs(validators.dev(losses, w) - 0.691) < 0.05


def test_dev_has_lower_variance_than_iwcv():
  iw, dv = [], []
  for seed in range(20):
    source, target, val = _shifted_gaussians(n=300, seed=seed)
    losses = (val[:, 0] > 0.5).astype(float)
    w = np.exp(val[:, 0] - 0.5)  # The true ratio: isolates the estimators' variance.
    iw.append(validators.iwcv(losses, w))
    dv.append(validators.dev(losses, w))
  assert np.std(dv) < np.std(iw)


def test_entropy_and_info_max_prefer_confident_balanced_predictions():
  confident = np.eye(4)[np.arange(100) % 4] * 0.97 + 0.01
  vague = np.full((100, 4), 0.25)
  collapsed = np.tile([0.97, 0.01, 0.01, 0.01], (100, 1))  # Confident, one class.
  assert validators.entropy(confident) < validators.entropy(vague)
  assert validators.info_max(confident) > validators.info_max(vague)
  assert validators.info_max(confident) > validators.info_max(collapsed)


def test_reverse_validation_ranks_a_good_classifier_above_a_useless_one():
  rng = np.random.default_rng(0)
  centres = np.array([[3.0, 0.0], [-3.0, 0.0]])
  y_t, y_s = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
  x_t = centres[y_t] + rng.normal(size=(400, 2)) + [0.0, 1.0]  # Shifted target.
  x_s = centres[y_s] + rng.normal(size=(400, 2))
  good = validators.reverse(x_t, y_t, x_s, y_s)  # Pseudo-labels = the truth.
  useless = validators.reverse(x_t, rng.integers(0, 2, 400), x_s, y_s)
  assert good > 0.95 and useless < 0.8


def test_select_follows_each_scores_direction():
  history = [
    {"step": 1, "iwcv": 0.3, "info_max": 0.1},
    {"step": 2, "iwcv": 0.2, "info_max": 0.05},
  ]
  assert validators.select(history, "iwcv")["step"] == 2
  assert validators.select(history, "info_max")["step"] == 1

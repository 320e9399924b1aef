"""KMM against a reference QP solver; KLIEP's constraint and its ratio on a known shift."""

import numpy as np
import pytest
from scipy import optimize, stats

from configs import digits
from tests import helpers
from tljax import checkpoint, core, methods
from tljax.errors import ConfigError
from tljax.losses import instance_weights
from tljax.methods import kliep, kmm
from tljax.run import build


def _shifted(n_s=40, n_t=30, seed=0):
  rng = np.random.default_rng(seed)
  source = rng.normal(0, 1, (n_s, 2))
  target = rng.normal(0.7, 0.7, (n_t, 2))
  return source, target, instance_weights.median_bandwidth(source, target)


def test_kmm_weights_satisfy_the_constraints_and_match_a_reference_qp():
  source, target, width = _shifted()
  n_s, n_t, upper = len(source), len(target), 5.0
  eps = (np.sqrt(n_s) - 1) / np.sqrt(n_s)
  ridge = 0.1  # Strongly convex: one minimiser to compare.
  b = kmm.kmm_weights(source, target, width, upper=upper, iterations=5000, ridge=ridge)
  assert b.min() >= 0 and b.max() <= upper + 1e-5
  assert n_s * (1 - eps) - 1e-3 <= b.sum() <= n_s * (1 + eps) + 1e-3
  k = np.asarray(instance_weights.gaussian(source, source, width), np.float64)
  k += ridge * np.eye(n_s)
  kappa = n_s / n_t * np.asarray(instance_weights.gaussian(source, target, width)).sum(1)
  objective = lambda x: 0.5 * x @ k @ x - kappa @ x  # noqa: E731
  reference = optimize.minimize(
    objective,
    np.ones(n_s),
    jac=lambda x: k @ x - kappa,
    bounds=[(0, upper)] * n_s,
    constraints=[
      {"type": "ineq", "fun": lambda x: n_s * (1 + eps) - x.sum()},
      {"type": "ineq", "fun": lambda x: x.sum() - n_s * (1 - eps)},
    ],
    method="SLSQP",
    options={"maxiter": 1000, "ftol": 1e-12},
  )
  assert reference.success
  np.testing.assert_allclose(objective(b), reference.fun, rtol=1e-4)
  np.testing.assert_allclose(b, reference.x, atol=2e-3)


def test_kliep_keeps_its_constraint_and_finds_a_known_density_ratio():
  rng = np.random.default_rng(1)
  source, target = rng.normal(0, 1, (400, 1)), rng.normal(0.7, 0.7, (300, 1))
  width = instance_weights.median_bandwidth(source, target)
  w = kliep.kliep_weights(source, target, width)
  assert w.min() >= 0 and abs(w.mean() - 1) < 1e-4  # 1/n_s sum w(x_i) = 1
  true = stats.norm.pdf(source[:, 0], 0.7, 0.7) / stats.norm.pdf(source[:, 0], 0, 1)
  assert np.corrcoef(w, true)[0, 1] > 0.95
  assert np.corrcoef(kmm.kmm_weights(source, target, width), true)[0, 1] > 0.85


def test_weights_in_feature_space_are_those_of_the_pretrained_features(tmp_path):
  config = digits.get_config("tiny")
  config.method.name = "kliep"
  config.method.kliep.space = "features"
  config.method.kliep.iterations = 200
  with pytest.raises(ConfigError, match="space='features' compares the features of a pretrained"):
    methods.create(config, 10)
  config.model.init_checkpoint = helpers.save_source_only(config, (28, 28, 3), 10, tmp_path)
  rng = np.random.default_rng(0)
  source = rng.integers(0, 256, (40, 28, 28, 3), dtype=np.uint8)
  target = rng.integers(0, 128, (30, 28, 28, 3), dtype=np.uint8)  # Darker: shifted.
  sets = {
    core.SOURCE: {"input": source, "label": np.arange(40) % 10},
    core.TARGET: {"input": target},
  }
  built = build.build(config, (28, 28, 3), 10, sets)
  weights = built.sets[core.SOURCE]["weight"]
  pretrained = checkpoint.read_classifier(config.model.init_checkpoint)
  s, t = (
    np.asarray(built.classifier.apply(pretrained, x, train=False)[1]) for x in (source, target)
  )
  width = instance_weights.median_bandwidth(s, t)
  np.testing.assert_allclose(weights, kliep.kliep_weights(s, t, width, 100, 200), rtol=1e-4)

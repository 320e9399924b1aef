import numpy as np
import pytest

from tljax.analysis.discrepancy import proxy_a_distance


def test_identical_distributions_give_pad_near_zero():
  rng = np.random.default_rng(0)
  a, b = rng.normal(size=(1000, 8)), rng.normal(size=(1000, 8))
  assert proxy_a_distance(a, b) < 0.25


def test_disjoint_distributions_give_pad_near_two():
  rng = np.random.default_rng(0)
  a = rng.normal(size=(500, 8))
  b = rng.normal(size=(500, 8)) + 10.0
  assert proxy_a_distance(a, b) > 1.95


def test_partly_overlapping_distributions_fall_in_between():
  # Two unit Gaussians 1.0 apart on one axis: the Bayes error is Φ(-0.5) = 0.31,
  # so PAD ≈ 2 (1 - 2 · 0.31) = 0.77.
  rng = np.random.default_rng(0)
  a = rng.normal(size=(2000, 1))
  b = rng.normal(size=(2000, 1)) + 1.0
  assert 0.6 < proxy_a_distance(a, b) < 0.9


def test_too_few_examples_is_a_clear_error():
  with pytest.raises(ValueError, match="needs >= 4 examples"):
    proxy_a_distance(np.zeros((2, 3)), np.zeros((2, 3)))

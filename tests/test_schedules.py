import numpy as np
import pytest

from tljax.core import schedules
from tljax.losses.grl import GRLSchedule

# Hand-computed from the DANN paper's formulas with num_steps = 100:
#   lr:  0.01 / (1 + 10 p)^0.75 -> p=0: 0.01; p=0.5: 0.01 / 6^0.75 = 0.0026084;
#        p=1: 0.01 / 11^0.75 = 0.01 / 6.0401 = 0.0016556
#   grl: 2 / (1 + e^(-10 p)) - 1 -> p=0: 0; p=0.5: 0.9866143; p=1: 0.9999092


@pytest.mark.parametrize(
  "step,expected", [(0, 0.01), (50, 0.0026084), (100, 0.0016556), (500, 0.0016556)]
)
def test_annealed_lr(step, expected):
  lr = schedules.annealed_lr(0.01, num_steps=100, alpha=10.0, beta=0.75)
  np.testing.assert_allclose(lr(step), expected, rtol=1e-4)


@pytest.mark.parametrize("step,expected", [(0, 0.0), (50, 0.9866143), (100, 0.9999092)])
def test_grl_coefficient(step, expected):
  coeff = GRLSchedule(num_steps=100, gamma=10.0, max_coeff=1.0)
  np.testing.assert_allclose(coeff(step), expected, rtol=1e-5, atol=1e-7)


def test_grl_coefficient_scales_with_max():
  coeff = GRLSchedule(num_steps=100, gamma=10.0, max_coeff=0.5)
  np.testing.assert_allclose(coeff(50), 0.5 * 0.9866143, rtol=1e-5)

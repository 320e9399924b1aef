"""Distillation: the softened KL, its gradient, and a frozen teacher read from a run."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import digits
from tests import helpers
from tljax import checkpoint, methods
from tljax.errors import ConfigError
from tljax.methods import distill


def test_soft_cross_entropy_by_hand_and_its_gradient_is_t_times_q_minus_p():
  teacher = jnp.array([[2.0, 0.0]])
  student = jnp.array([[0.0, 0.0]])
  t = 2.0
  p = np.exp([1.0, 0.0]) / np.exp([1.0, 0.0]).sum()  # softmax(teacher / T)
  kl = t**2 * (p * np.log(p / 0.5)).sum()
  np.testing.assert_allclose(distill.soft_cross_entropy(student, teacher, t), [kl], rtol=1e-6)
  assert float(distill.soft_cross_entropy(teacher, teacher, t)[0]) == pytest.approx(0, abs=1e-7)
  grad = jax.grad(lambda s: distill.soft_cross_entropy(s, teacher, t).sum())(student)
  np.testing.assert_allclose(grad, t * (np.array([[0.5, 0.5]]) - p), rtol=1e-5)


def test_the_teacher_is_read_frozen_and_must_match_the_classes(tmp_path):
  config = digits.get_config("tiny")
  config.method.name = "distill"
  with pytest.raises(ConfigError, match="config.method.distill.teacher=''"):
    methods.create(config, 10)
  helpers.provide_teacher(config, (28, 28, 3), 10, tmp_path / "teacher")
  teacher = checkpoint.read_classifier(config.method.distill.teacher)
  assert set(teacher["params"]) == {"backbone", "head"}
  with pytest.raises(ConfigError, match="predicts 10 classes, the run 3"):
    methods.create(config, 3).init(jax.random.key(0), jnp.zeros((2, 3)), jnp.zeros((2, 4)))

"""MCD: each phase moves only its parameters (and their optimizer state); the discrepancy."""

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import bench
from configs import digits
from tljax import methods, models
from tljax.core import optim
from tljax.core import state as state_lib
from tljax.core import step as update
from tljax.data import augment
from tljax.methods import mcd


def test_discrepancy_is_the_mean_absolute_difference_of_probabilities():
  a = jnp.log(jnp.array([[0.5, 0.5], [0.9, 0.1]]))
  b = jnp.log(jnp.array([[0.2, 0.8], [0.9, 0.1]]))
  np.testing.assert_allclose(mcd.discrepancy(a, b), (0.3 + 0.3 + 0 + 0) / 4, rtol=1e-6)


def _setup():
  config = digits.get_config("tiny")
  config.method.name = "mcd"
  config.optim.weight_decay = 1e-2  # Would move frozen weights if a phase leaked.
  method = methods.create(config, 10)
  classifier = models.build_classifier(config.model, 10)
  tx, lr_schedule = optim.make_optimizer(config.optim, config.train.num_steps)
  state = state_lib.create_train_state(jax.random.key(0), classifier, method, tx, (28, 28, 3))
  step = update.Step(classifier, tx, lr_schedule, augment.Images(), 0.0, None)
  batch = bench.synthetic_batch(config, method.streams, np.random.default_rng(0))
  # Phase A first, so every parameter has momentum that a later phase could leak.
  state, _ = _phase(method._phase_a, step)(state, batch, jax.random.key(1))  # pylint: disable=protected-access
  return method, state, step, batch


def _phase(fn, step):
  """A phase (state, batch, rng) jitted with its bound dependencies."""
  return jax.jit(lambda state, batch, rng: fn(state, batch, rng, step))


def _changed(before, after) -> dict[str, bool]:
  flat = lambda tree: {
    update.param_path(p): x for p, x in jax.tree_util.tree_leaves_with_path(tree)
  }  # noqa: E731
  a, b = flat(before), flat(after)
  return {name: bool(np.any(a[name] != b[name])) for name in a}


def test_phase_b_moves_only_the_heads_and_phase_c_only_the_generator():
  method, state, step, batch = _setup()
  after_b, _ = _phase(method._phase_b, step)(state, batch, jax.random.key(2))  # pylint: disable=protected-access
  after_c, _ = _phase(method._phase_c, step)(state, batch, jax.random.key(3))  # pylint: disable=protected-access
  for after, moves in ((after_b, mcd.is_head), (after_c, mcd.is_generator)):
    params = _changed(state.params, after.params)
    momentum = _changed(state.opt_state, after.opt_state)
    assert any(params.values())
    for name, changed in params.items():
      assert changed == moves(name), name
    for name, changed in momentum.items():
      if name:  # Params-shaped optimizer state (momentum): as the params.
        assert changed == moves(name), name
    assert int(after.step) == int(state.step)  # Phases leave the step to `finish`.


def test_phase_a_moves_everything_and_counts_one_optimizer_step():
  method, state, step, batch = _setup()
  after, metrics = _phase(method._phase_a, step)(state, batch, jax.random.key(4))  # pylint: disable=protected-access
  assert all(_changed(state.params, after.params).values())
  counts = [
    x for p, x in jax.tree_util.tree_leaves_with_path(after.opt_state) if not update.param_path(p)
  ]
  before = [
    x for p, x in jax.tree_util.tree_leaves_with_path(state.opt_state) if not update.param_path(p)
  ]
  assert [int(c) for c in counts] == [int(c) + 1 for c in before]
  assert {"cls_loss", "cls_loss2", "accuracy"} <= set(metrics)


def test_a_full_step_advances_the_step_once_and_reports_both_discrepancies():
  method, state, step, batch = _setup()
  new_state, metrics = _phase(method.update, step)(state, batch, jax.random.key(5))
  assert int(new_state.step) == int(state.step) + 1
  assert {"discrepancy", "discrepancy_heads", "lr"} <= set(metrics)

import jax
import numpy as np

from tests.test_steps import _batch, _build
from tljax import checkpoint


def test_save_then_restore_gives_identical_state(tmp_path):
  state, step, _ = _build()
  state, _ = step(state, _batch(0), jax.random.key(0))
  manager = checkpoint.make_manager(str(tmp_path))
  checkpoint.save(manager, state)
  manager.wait_until_finished()
  fresh, _, _ = _build()
  restored, restored_step = checkpoint.restore_latest(manager, fresh)
  assert restored_step == 1
  jax.tree.map(np.testing.assert_array_equal, restored, state)
  manager.close()


def test_restore_from_empty_dir_returns_input(tmp_path):
  state, _, _ = _build()
  manager = checkpoint.make_manager(str(tmp_path))
  same, step = checkpoint.restore_latest(manager, state)
  assert step is None and same is state

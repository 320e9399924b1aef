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


def test_unreadable_newest_checkpoint_falls_back_with_a_warning(tmp_path, caplog):
  state, step, _ = _build()
  manager = checkpoint.make_manager(str(tmp_path))
  saved = {}
  for i in range(2):
    state, _ = step(state, _batch(i), jax.random.key(0))
    saved[i + 1] = jax.device_get(state)
    checkpoint.save(manager, state)
  manager.wait_until_finished()
  for path in (tmp_path / "checkpoints" / "2").rglob("*"):
    if path.is_file():
      path.write_bytes(b"garbage")  # Bit rot in every file of the newest step.
  fresh, _, _ = _build()
  with caplog.at_level("WARNING", logger="tljax"):
    restored, restored_step = checkpoint.restore_latest(manager, fresh)
  assert restored_step == 1
  assert "checkpoint at step 2" in caplog.text and "unreadable" in caplog.text
  jax.tree.map(np.testing.assert_array_equal, restored, saved[1])
  # The damaged step is kept aside, so the resumed run can save step 2 again.
  assert (tmp_path / "checkpoints_unreadable" / "2").is_dir()
  assert manager.all_steps() == [1]
  checkpoint.save(manager, jax.tree.map(np.asarray, saved[2]))
  manager.wait_until_finished()
  again, again_step = checkpoint.restore_latest(manager, fresh)
  assert again_step == 2
  jax.tree.map(np.testing.assert_array_equal, again, saved[2])
  manager.close()

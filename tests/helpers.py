"""Helpers shared by several test modules."""

from tljax import checkpoint
from tljax.train import build, splits


def final_state(config, workdir):
  """(newest restorable TrainState in `workdir`, its step) for `config`."""
  data = splits.load_domains(config.data)
  state = build.build(config, data.source_train["input"].shape[1:], 10).state
  manager = checkpoint.make_manager(str(workdir))
  restored, step = checkpoint.restore_latest(manager, state)
  manager.close()
  return restored, step

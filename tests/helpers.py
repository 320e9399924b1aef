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


def provide_teacher(config, image_shape, num_classes: int, workdir) -> None:
  """For a method with a `teacher` field (distill): a saved source_only state of the model."""
  section = config.method[config.method.name]
  if "teacher" not in section:
    return
  teacher = config.copy_and_resolve_references()
  teacher.method.name = "source_only"
  manager = checkpoint.make_manager(str(workdir))
  checkpoint.save(manager, build.build(teacher, image_shape, num_classes).state)
  manager.wait_until_finished()
  manager.close()
  section.teacher = str(workdir)

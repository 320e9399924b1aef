"""Helpers shared by several test modules."""

from tljax import checkpoint, core, methods
from tljax.data import splits
from tljax.run import build


def results(method="dann", seed=0, acc=0.5, **fields) -> dict:
  """A finished run's results.json with the fields tables read (others as given)."""
  return {
    "status": "finished",
    "method": method,
    "seed": seed,
    "source": "a",
    "target": "b",
    "steps": 10,
    "wall_seconds": 1.0,
    "source_test_accuracy": 0.9,
    "target_test_accuracy": acc,
    "config": {"method": {"name": method}, "seed": seed},
    **fields,
  }


def final_state(config, workdir):
  """(newest restorable TrainState in `workdir`, its step) for `config`."""
  data = splits.load_domains(config.data)
  sets = splits.training_sets(config, data, methods.create(config, 10).streams)
  state = build.build(config, data.source_train["input"].shape[1:], 10, sets).state
  manager = checkpoint.make_manager(str(workdir))
  restored, step = checkpoint.restore_latest(manager, state)
  manager.close()
  return restored, step


def provide_teacher(config, image_shape, num_classes: int, workdir) -> None:
  """A saved source_only state of the model, for a method that reads one.

  As `teacher` for a method with that field (distill); as
  `model.init_checkpoint` for one that needs a pretrained start (delta, co_tuning).
  """
  section = config.method[config.method.name]
  needs_start = methods.find(config.method.name).pretrained and not config.model.init_checkpoint
  if "teacher" not in section and not needs_start:
    return
  save_source_only(config, image_shape, num_classes, workdir)
  if "teacher" in section:
    section.teacher = str(workdir)
  if needs_start:
    config.model.init_checkpoint = str(workdir)


def save_source_only(config, image_shape, num_classes: int, workdir) -> str:
  """Saves a fresh source_only state of the model in `workdir`, as a run would; returns it."""
  start = config.copy_and_resolve_references()
  start.method.name = "source_only"
  start.model.init_checkpoint = None
  manager = checkpoint.make_manager(str(workdir))
  checkpoint.save(manager, build.build(start, image_shape, num_classes).state)
  manager.wait_until_finished()
  manager.close()
  return str(workdir)


def built(config, shape, num_classes: int, rng):
  """`build.build` with a synthetic batch of every stream as the training sets it prepares on."""
  from benchmarks import bench  # pylint: disable=g-import-not-at-top

  sets = bench.synthetic_batch(config, tuple(core.LABELLED), rng)
  return build.build(config, shape, num_classes, sets)

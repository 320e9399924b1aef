"""A finished run's config and final state, for analyses after training."""

import os

from tljax.upgrade import upgrade


def stored_config(stored: dict):
  """A run's config.json/results.json config on today's defaults (fields added since)."""
  from configs import common  # pylint: disable=g-import-not-at-top

  def tuples(d: dict) -> dict:  # JSON turned the config's tuples into lists.
    return {
      k: tuples(v) if isinstance(v, dict) else tuple(v) if isinstance(v, list) else v
      for k, v in d.items()
    }

  config = common.base_config()
  config.update(tuples(upgrade(stored)))
  return config


def results(run: str) -> dict:
  """A finished run's results.json, or DataError (one line) if there is none."""
  from tljax import files  # pylint: disable=g-import-not-at-top
  from tljax.errors import DataError  # pylint: disable=g-import-not-at-top

  path = os.path.join(run, "results.json")
  found = files.read_json(path) if os.path.exists(path) else None
  if found is None or found.get("status") != "finished":
    status = "missing or unreadable" if found is None else f"status {found.get('status')!r}"
    raise DataError(f"{run} holds no finished tljax run ({path}: {status})")
  return found


def load(run: str, finished: dict, data=None):
  """(config, final state, data, evaluator) of the finished run in `run`.

  `finished` is its results.json; the state is the checkpoint of the step it
  names, read-only, or a DataError if that checkpoint is gone. A source-free
  run's data holds the target's splits alone, as in training.
  """
  from tljax import checkpoint, methods  # pylint: disable=g-import-not-at-top
  from tljax.data import splits  # pylint: disable=g-import-not-at-top
  from tljax.run import build, evaluation  # pylint: disable=g-import-not-at-top

  config = stored_config(finished["config"])
  method = methods.create(config, num_classes=2)
  data = data or splits.load_domains(config.data, source=not method.source_free)
  num_classes = splits.num_classes(data)
  sets = splits.training_sets(config, data, method.streams) if method.prepares else None
  built = build.build(config, data.input_shape, num_classes, sets, unknown=data.unknown)
  state = checkpoint.restore_step(run, finished["steps"], built.state)
  return config, state, data, evaluation.Evaluator(config, built.method.outputs)

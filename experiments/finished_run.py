"""A finished run's config and final state, for analyses after training."""


def stored_config(stored: dict):
  """A run's config.json/results.json config on today's defaults (fields added since)."""
  from configs import common  # pylint: disable=g-import-not-at-top

  def tuples(d: dict) -> dict:  # JSON turned the config's tuples into lists.
    return {
      k: tuples(v) if isinstance(v, dict) else tuple(v) if isinstance(v, list) else v
      for k, v in d.items()
    }

  config = common.base_config()
  config.update(tuples(migrate(stored)))
  return config


def migrate(stored: dict) -> dict:
  """A config stored before methods had sections: `method.trade_off` etc. were DANN's."""
  method = stored.get("method", {})
  flat = {k: v for k, v in method.items() if k != "name" and not isinstance(v, dict)}
  if not flat:
    return stored
  kept = {k: v for k, v in method.items() if k not in flat}
  return {**stored, "method": {**kept, "dann": {**kept.get("dann", {}), **flat}}}


def load(run: str, stored: dict, data=None):
  """(config, newest state, data, evaluator) of the run in `run` with config `stored`."""
  from tljax import checkpoint  # pylint: disable=g-import-not-at-top
  from tljax.train import build, evaluation, splits  # pylint: disable=g-import-not-at-top

  config = stored_config(stored)
  data = data or splits.load_domains(config.data)
  num_classes = int(data.source_train["label"].max()) + 1
  state = build.build(config, data.source_train["image"].shape[1:], num_classes).state
  manager = checkpoint.make_manager(run)
  state, _ = checkpoint.restore_latest(manager, state)
  manager.close()
  return config, state, data, evaluation.Evaluator(config, num_classes)

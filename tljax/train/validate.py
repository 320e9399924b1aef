"""validate_config: every config error a run can find before it loads data or compiles."""

import os
import re

import jax
import ml_collections

from tljax import models
from tljax.data import pipeline
from tljax.errors import ConfigError, DataError
from tljax.methods import base
from tljax.train import optim, parallel


def validate_config(config: ml_collections.ConfigDict) -> None:
  """Raises ConfigError naming the first field that cannot work."""
  base.create(config, num_classes=2)  # The method checks its own fields.
  pipeline.check_dataset_name("source", config.data.source)
  pipeline.check_dataset_name("target", config.data.target)
  positive = {
    "optim.lr": config.optim.lr,
    "data.batch_size": config.data.batch_size,
    "data.eval_batch_size": config.data.eval_batch_size,
    "train.num_steps": config.train.num_steps,
    "train.log_every": config.train.log_every,
    "train.eval_every": config.train.eval_every,
    "train.ckpt_every": config.train.ckpt_every,
  }
  for field, value in positive.items():
    if not value > 0:
      raise ConfigError(f"config.{field}={value!r} must be > 0")
  if config.data.source_val_size < 0:
    raise ConfigError(f"config.data.source_val_size={config.data.source_val_size!r} must be >= 0")
  if config.train.reverse_dann_steps < 0:
    raise ConfigError(
      f"config.train.reverse_dann_steps={config.train.reverse_dann_steps!r} must be >= 0"
    )
  if config.data.target_labels_per_class < 0:
    raise ConfigError(
      f"config.data.target_labels_per_class={config.data.target_labels_per_class!r} must be >= 0"
    )
  if config.data.random_shift < 0:
    raise ConfigError(f"config.data.random_shift={config.data.random_shift!r} must be >= 0")
  if not 0 <= config.train.ema_decay < 1:
    raise ConfigError(f"config.train.ema_decay={config.train.ema_decay!r} must be in [0, 1)")
  if not 0 <= config.model.dropout < 1:
    raise ConfigError(f"config.model.dropout={config.model.dropout!r} must be in [0, 1)")
  parallel.Placement(config.parallel)
  parallel.check_divisible(config.parallel, config.data.batch_size)
  k, count = config.data.target_labels_per_class, jax.process_count()
  if k % count:
    raise ConfigError(
      f"config.data.target_labels_per_class={k} does not divide by the {count} processes, "
      "which each draw their part from their shard of the data"
    )
  if config.parallel != "sharded" and jax.process_count() > 1:
    raise ConfigError(
      f"config.parallel={config.parallel!r} runs on one process only; use "
      f"config.parallel='sharded' across the {jax.process_count()} processes"
    )
  manual_dir = config.data.manual_dir
  if manual_dir and not os.path.isdir(os.path.expanduser(manual_dir)):
    raise DataError(
      f"config.data.manual_dir: {manual_dir} does not exist; create it and put "
      "the dataset's files there (see the dataset's builder docstring)"
    )
  models.build_classifier(config.model, num_classes=2)  # Checks names only.
  for field in ("init_checkpoint", "torch_weights"):
    path = config.model[field]
    if path and not os.path.exists(os.path.expanduser(path)):
      raise ConfigError(f"config.model.{field}={path!r} does not exist")
  pretrained_init = config.model.init_checkpoint or config.model.torch_weights
  optim.make_optimizer(config.optim, config.train.num_steps, {} if pretrained_init else None)
  for field in ("model.skip_load", "optim.param_groups"):
    section, name = field.split(".")
    for entry in config[section][name]:
      pattern = entry if isinstance(entry, str) else entry[0]
      try:
        re.compile(pattern)
      except re.error as e:
        raise ConfigError(f"config.{field}: {pattern!r} is not a regex ({e})") from None

"""validate_config: every config error a run can find before it loads data or compiles."""

import dataclasses
import os
import re

import jax
import ml_collections

from tljax import files, host, methods, models, upgrade
from tljax.core import optim
from tljax.core import placement as parallel
from tljax.data import audio, domains, pipeline, text
from tljax.errors import ConfigError, DataError

_POSITIVE = (lambda v: v > 0, "> 0")
_NON_NEGATIVE = (lambda v: v >= 0, ">= 0")
_FRACTION = (lambda v: 0 <= v < 1, "in [0, 1)")
# config.train.seeds_program: tljax/run/seeds.py.
SEEDS_PROGRAMS = ("auto", "sequential", "unrolled", "vmap")
RANGES = {
  "optim.lr": _POSITIVE,
  "data.batch_size": _POSITIVE,
  "data.eval_batch_size": _POSITIVE,
  "data.image_size": _POSITIVE,
  "data.channels": _POSITIVE,
  "train.num_steps": _POSITIVE,
  "train.log_every": _POSITIVE,
  "train.eval_every": _POSITIVE,
  "train.ckpt_every": _POSITIVE,
  "data.source_val_size": _NON_NEGATIVE,
  "data.target_val_size": _NON_NEGATIVE,
  "data.target_labels_per_class": _NON_NEGATIVE,
  "data.random_shift": _NON_NEGATIVE,
  "data.strong_shift": _NON_NEGATIVE,
  "data.cutout": _NON_NEGATIVE,
  "train.reverse_validation_steps": _NON_NEGATIVE,
  "optim.clip_norm": (lambda v: v >= 0, ">= 0 (0 turns clipping off)"),
  "optim.weight_decay": _NON_NEGATIVE,
  "optim.lr_alpha": _NON_NEGATIVE,
  "optim.lr_beta": _NON_NEGATIVE,
  "optim.l2sp_alpha": _NON_NEGATIVE,
  "optim.l2sp_beta": _NON_NEGATIVE,
  "optim.momentum": _FRACTION,
  "train.ema_decay": _FRACTION,
  "train.num_seeds": (lambda v: isinstance(v, int) and v >= 1, "an integer >= 1"),
  "train.seeds_program": (lambda v: v in SEEDS_PROGRAMS, f"one of {SEEDS_PROGRAMS}"),
  "model.dropout": _FRACTION,
}


def check_weight_average(train: ml_collections.ConfigDict) -> None:
  """One evaluation average at a time, starting at a step the run reaches."""
  start = train.average_from
  if not isinstance(start, int) or not -1 <= start < train.num_steps:
    raise ConfigError(
      f"config.train.average_from={start!r} must be an integer step in [0, "
      f"train.num_steps={train.num_steps}) to average the weights from, or -1 for no average"
    )
  if start >= 0 and train.ema_decay > 0:
    raise ConfigError(
      f"config.train.average_from={start} and config.train.ema_decay={train.ema_decay} both "
      "average the evaluation weights: set one (--config.train.ema_decay=0 for the uniform mean)"
    )


def validate_config(config: ml_collections.ConfigDict):
  """The run's method, checked with every field; ConfigError naming the first that cannot work.

  The method is built here once (it checks its own settings and the files
  they name); `build` takes it with the data's class count and input shape.
  """
  method = methods.create(config, num_classes=2)  # Classes and shape are known after loading.
  for name in domains.check("source", config.data.source):
    pipeline.check_dataset_name("source", name)
  pipeline.check_dataset_name("target", config.data.target)
  domains.check_disjoint(config.data.source, config.data.target)
  for field, (ok, must) in RANGES.items():
    section, name = field.split(".")
    value = config[section][name]
    if not ok(value):
      raise ConfigError(f"config.{field}={value!r} must be {must}")
  check_seed(config.seed)
  if not 0 < config.data.test_fraction < 1:
    raise ConfigError(
      f"config.data.test_fraction={config.data.test_fraction!r} must be in (0, 1): the share "
      "of each class of a folder:PATH without train/ and test/ held out for testing"
    )
  check_weight_average(config.train)
  if config.train.dtype not in ("float32", "bfloat16"):
    raise ConfigError(f"config.train.dtype={config.train.dtype!r} must be 'float32' or 'bfloat16'")
  parallel.Placement(config.parallel)
  parallel.check_divisible(config.parallel, config.data.batch_size)
  domains.check_batch(
    config.data.batch_size, len(domains.names(config.data.source)), jax.process_count()
  )
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
  kind = check_modality(config)
  if method.source_free:
    check_source_free(config, method, kind)
  if kind != "images" and config.data.get("colour_jitter", False):
    raise ConfigError(
      f"config.data.colour_jitter=True changes image colours, and config.data.target="
      f"{config.data.target!r} is {kind}; drop it (text and audio have their own views)"
    )
  if kind == "text":
    check_text(config)
  elif kind == "audio":
    check_audio(config)
  else:
    check_shifts(config.data)
    check_image_size(config, method)
  for field in ("init_checkpoint", "torch_weights"):
    path = config.model[field]
    if path and not os.path.exists(os.path.expanduser(path)):
      raise ConfigError(f"config.model.{field}={path!r} does not exist")
  pretrained_init = config.model.init_checkpoint or config.model.torch_weights
  optim.check(config.optim, pretrained=bool(pretrained_init))
  for field in ("model.skip_load", "optim.param_groups"):
    section, name = field.split(".")
    for entry in config[section][name]:
      pattern = entry if isinstance(entry, str) else entry[0]
      try:
        re.compile(pattern)
      except re.error as e:
        raise ConfigError(f"config.{field}: {pattern!r} is not a regex ({e})") from None
  return method


SEEDS = 2**32  # jax.random.key folds a seed to 32 bits: key(2**32) would be key(0).


def check_seed(seed) -> None:
  if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < SEEDS:
    raise ConfigError(
      f"config.seed={seed!r} must be an integer in [0, 2**32): larger seeds would reuse a "
      "smaller one's randomness"
    )


def check_shifts(data: ml_collections.ConfigDict) -> None:
  """ConfigError for augmentation that would move an image (or cut a square) past itself."""
  size = data.image_size
  for field in ("random_shift", "strong_shift"):
    if data[field] >= size / 2:
      raise ConfigError(
        f"config.data.{field}={data[field]} must be < half of data.image_size={size}: a "
        "shift that large moves the image out of its frame"
      )
  if data.cutout > size:
    raise ConfigError(f"config.data.cutout={data.cutout} must be <= data.image_size={size}")


def check_source_free(config: ml_collections.ConfigDict, method, kind: str) -> None:
  """ConfigError for what a source-free run (no source data) cannot do."""
  if kind == "text":
    raise ConfigError(
      f"config.method.name={method.name!r} is source-free, and config.data.target="
      f"{config.data.target!r} is text: the run would need the source run's vocabulary, which "
      "tljax does not keep yet; source-free methods run on images and audio"
    )
  for field in ("source_classes", "target_classes"):
    if config.data[field]:
      raise ConfigError(
        f"config.method.name={method.name!r} is source-free and keeps the target's classes as "
        f"they are; leave config.data.{field} empty"
      )
  check_same_network(config, method)


NETWORK = ("name", "norm", "head", "head_hidden", "input_norm", "width", "stem")


def check_same_network(config: ml_collections.ConfigDict, method) -> None:
  """ConfigError when `model.init_checkpoint`'s run had another network than this config's.

  A source-free method adapts the source model itself: a head or input
  normalisation other than the source run's would start from another function
  (SHOT's source model: the `:shot` config argument in both runs).
  """
  path = os.path.join(os.path.expanduser(config.model.init_checkpoint or ""), "config.json")
  stored = files.read_json(path) if os.path.exists(path) else None
  if not stored or "model" not in stored:
    return
  source = upgrade.upgrade(stored)["model"]
  for field in NETWORK:
    ours = config.model[field]
    theirs = source.get(field)
    if isinstance(ours, (tuple, list)):
      ours, theirs = list(ours), list(theirs or ())
    if field in source and theirs != ours:
      raise ConfigError(
        f"config.model.{field}={ours!r}, but the source run in config.model.init_checkpoint="
        f"{config.model.init_checkpoint!r} trained with {theirs!r}: {method.name!r} adapts that "
        f"network; give the same --config.model.{field} (or the same config argument, e.g. :shot)"
      )


def check_modality(config: ml_collections.ConfigDict) -> str:
  """ "images", "text" or "audio": what both domains hold; ConfigError if they differ or the
  model cannot read it."""
  listed = [*domains.names(config.data.source), config.data.target]
  kinds = {n: pipeline.modality(n) for n in listed}
  if len(set(kinds.values())) > 1:
    held = ", ".join(f"{n!r} is {k}" for n, k in kinds.items())
    raise ConfigError(
      f"config.data.source={config.data.source!r}, config.data.target={config.data.target!r}: "
      f"{held}: every domain must hold the same kind"
    )
  kind = kinds[config.data.target]
  reads = models.modality(config.model.name)
  if reads != kind:
    valid = sorted(n for n in models.BACKBONES if models.modality(n) == kind)
    raise ConfigError(
      f"config.model.name={config.model.name!r} reads {reads}, not {kind}; use one of {valid}"
    )
  return kind


def check_audio(config: ml_collections.ConfigDict) -> None:
  """ConfigError unless config.data.audio exists, is valid and matches the model's front end."""
  if "audio" not in config.data:
    raise ConfigError(
      f"config.data.source={config.data.source!r} is audio, but the config has no data.audio "
      "section; start from configs/spoken_digits.py"
    )
  audio.check(config.data.audio)
  models.check_audio(config.model)
  if config.model.audio.sample_rate != config.data.audio.sample_rate:
    raise ConfigError(
      f"config.model.audio.sample_rate={config.model.audio.sample_rate} must equal "
      f"config.data.audio.sample_rate={config.data.audio.sample_rate} (the clips' rate)"
    )


def check_text(config: ml_collections.ConfigDict) -> None:
  """ConfigError unless config.data.text exists, is valid and matches the text model."""
  if "text" not in config.data:
    raise ConfigError(
      f"config.data.source={config.data.source!r} is text, but the config has no data.text "
      "section; start from configs/sentiment.py"
    )
  text.check(config.data.text)
  wants = models.TEXT_MODELS[config.model.name]
  if config.data.text.representation != wants:
    raise ConfigError(
      f"config.model.name={config.model.name!r} reads text.representation={wants!r}, not "
      f"config.data.text.representation={config.data.text.representation!r}"
    )
  if wants == "tokens" and config.model.vocab_size != config.data.text.vocab_size + 2:
    raise ConfigError(
      f"config.model.vocab_size={config.model.vocab_size} must be config.data.text.vocab_size + 2 "
      f"= {config.data.text.vocab_size + 2} (the words, padding and unknown)"
    )


def check_image_size(config: ml_collections.ConfigDict, method=None) -> None:
  """ConfigError if the model cannot take `data.image_size` images (shapes only, no compile),
  or if its parameters (with the method's networks) could not fit this machine's memory."""
  classifier = models.build_classifier(config.model, num_classes=2)  # Checks the names too.
  size, channels = config.data.image_size, config.data.channels
  images = jax.ShapeDtypeStruct((2, size, size, channels), jax.numpy.float32)
  try:
    variables = jax.eval_shape(lambda x: classifier.init(jax.random.key(0), x, False), images)
    _, features = jax.eval_shape(lambda v, x: classifier.apply(v, x, False), variables, images)
  except Exception as e:  # pylint: disable=broad-except  (any shape error of any backbone)
    first = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
    raise ConfigError(
      f"config.data.image_size={size}: model {config.model.name!r} cannot take {size}x{size} "
      f"images ({first}); use a larger image_size"
    ) from None
  if features.shape[-1] == 0:
    raise ConfigError(
      f"config.data.image_size={size}: model {config.model.name!r} leaves no features of "
      f"{size}x{size} images; use a larger image_size"
    )
  count = sum(x.size for x in jax.tree.leaves(variables))
  if method is not None:
    # The method as it will run on these images (iw_erm on="inputs" sizes a network by them).
    method = dataclasses.replace(method, input_shape=(size, size, channels))
    logits = jax.ShapeDtypeStruct((2, 2), jax.numpy.float32)
    init = lambda l, f: vars(method.init(jax.random.key(0), l, f))  # noqa: E731
    try:  # The class count is a placeholder here: a method checking it against files waits.
      extras = jax.eval_shape(init, logits, features)
      count += sum(x.size for x in jax.tree.leaves((extras["params"], extras["batch_stats"])))
    except ConfigError:
      pass
  needed = TRAIN_COPIES * 4 * count  # float32 params, gradients, momentum, evaluation weights.
  available = host.memory_bytes()
  if available and needed > available:
    raise ConfigError(
      f"config.data.image_size={size}: model {config.model.name!r} and the method's networks "
      f"hold {count:,} parameters ({features.shape[-1]:,} features per image), about "
      f"{needed / 2**30:.0f} GiB to train, more than this machine's {available / 2**30:.0f} GiB; "
      "use a smaller image_size or a model that pools its features"
    )


TRAIN_COPIES = 4  # Arrays the size of the parameters a train step holds at once.

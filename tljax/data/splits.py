"""The four splits of a run, in memory, and the per-step streams a method reads."""

import dataclasses
import logging

import jax
import ml_collections
import numpy as np

from tljax import host
from tljax.data import classes, domains, pipeline, selection, text
from tljax.data.streams import LABELLED, SOURCE, TARGET, TARGET_LABELLED, DomainStream, Stream
from tljax.errors import ConfigError, DataError

log = logging.getLogger("tljax")


@dataclasses.dataclass
class Domains:
  """The four splits of a source -> target run, as in-memory arrays.

  A source-free run (`load_domains(..., source=False)`) holds the target's
  splits only: the source ones are None and the classes are the target's.
  """

  source_train: dict | None
  source_test: dict | None
  target_train: dict
  target_test: dict
  source_val: dict | None = None  # Held out from source train (data.source_val_size).
  # Labelled copies of data.target_val_size target train examples, for choosing settings on
  # target labels ("oracle selection", never a test number). They stay in target_train, whose
  # inputs adaptation reads unlabelled, and leave the labelled target a method may train on.
  target_val: dict | None = None
  # Label sets that differ (data.source_classes / target_classes): the target's classes the
  # source lacks are one class, "unknown", numbered after the source's classes.
  unknown: bool = False
  class_count: int = 0  # Source-free: the target's classes (the source's come from its labels).

  def splits(self) -> dict[str, dict]:
    """{name: arrays} of the splits this run holds (held-out ones only when held out)."""
    return {k: v for k, v in vars(self).items() if isinstance(v, dict)}

  @property
  def source_free(self) -> bool:
    """Whether the run holds no source data (a source-free method's run)."""
    return self.source_train is None

  @property
  def input_shape(self) -> tuple:
    """One example's shape ([H, W, C] or [L]), the same in every split."""
    return self.target_train["input"].shape[1:]


def load_domains(data: ml_collections.ConfigDict, source: bool = True) -> Domains:
  """This process's shard of the four splits (all of them with one process).

  With several processes, process 0 prepares the datasets first, then every
  process reads only its contiguous 1/process_count of every split.
  `source=False` (a source-free run) never opens the source dataset.
  """
  primary = jax.process_index() == 0
  shard = (jax.process_index(), jax.process_count())
  load = _load_domains if source else _load_target
  loaded = load(data, shard) if primary else None
  host.wait_for_all("tljax: datasets prepared")  # The others read what process 0 prepared.
  loaded = loaded if primary else load(data, shard)
  if shard[1] > 1:
    log.info(
      "process %d of %d reads shard %d of every split: %s",
      shard[0],
      shard[1],
      shard[0],
      ", ".join(f"{k} {len(v['label'])}" for k, v in loaded.splits().items()),
    )
  return loaded


def _load_domains(data: ml_collections.ConfigDict, shard: tuple[int, int] = (0, 1)) -> Domains:
  names = {}

  def load(name, split, part=shard):
    arrays, names[name] = pipeline.load(name, split, data, part)
    return arrays

  sources = domains.names(data.source)
  val_size = data.source_val_size // shard[1]  # Each process holds out its part.
  target_val_size = data.target_val_size // shard[1]
  parts = [(load(s, data.train_split), load(s, data.test_split)) for s in sources]
  target_train = load(data.target, data.train_split)
  target_test = load(data.target, data.test_split)
  align = lambda source: classes.align(  # noqa: E731
    names[source],
    names[data.target],
    renames=data.rename_classes,
    mode=data.classes,
    merges=data.merge_classes,
    source_classes=data.source_classes,
    target_classes=data.target_classes,
  )
  _, to_target, run_names = align(sources[0])
  trains, tests, vals = [], [], []
  shares = [len(a) for a in np.array_split(np.arange(val_size), len(sources))]
  for name, (train, test), share in zip(sources, parts, shares):
    mapping, _, its_names = align(name)
    if its_names != run_names:
      raise ConfigError(
        f"source domains {sources[0]!r} and {name!r} give the run different classes "
        f"({run_names[:12]} vs {its_names[:12]}); every source needs the same class names "
        "(config.data.rename_classes maps names)"
      )
    train = selection.biased_sample(classes.relabel(train, mapping), data.source_selection_bias)
    if val_size and not share:
      raise ConfigError(
        f"config.data.source_val_size={data.source_val_size} holds out nothing from {name!r}: "
        f"give 0 or at least one example per source domain ({len(sources)})"
      )
    train, val = split_off(train, share, "source_val_size")
    trains.append(train)
    tests.append(classes.relabel(test, mapping))
    vals.append(val)
  pool = domains.pooled if len(sources) > 1 else (lambda p: p[0])
  source_train, source_val = pool(trains), (pool(vals) if val_size else None)
  target_train = classes.relabel(target_train, to_target)
  loaded = Domains(
    source_train=source_train,
    source_test=pool(tests),
    target_train=target_train,
    target_test=classes.relabel(target_test, to_target),
    source_val=source_val,
    target_val=split_off(target_train, target_val_size, "target_val_size")[1],
    unknown=run_names[-1] == classes.UNKNOWN,
  )
  if pipeline.is_text(sources[0]):
    # The vocabulary sees every domain's whole training text (every process the same), no labels.
    if shard[1] == 1:  # Already in memory: source train (with its held-out part) and target train.
      fitting = [a["input"] for a in (*trains, *vals, loaded.target_train) if a]
    else:
      fitting = [load(n, data.train_split, (0, 1))["input"] for n in (*sources, data.target)]
    vectorize = text.fit(np.concatenate(fitting), data.text)
    for arrays in loaded.splits().values():
      arrays["input"] = vectorize(arrays["input"])
  return loaded


def _load_target(data: ml_collections.ConfigDict, shard: tuple[int, int] = (0, 1)) -> Domains:
  """The target's splits alone, its classes as they are: a source-free run's data (images or
  audio: `validate.check_source_free` refuses text)."""
  target_train, names = pipeline.load(data.target, data.train_split, data, shard)
  target_test, _ = pipeline.load(data.target, data.test_split, data, shard)
  target_val_size = data.target_val_size // shard[1]
  return Domains(
    source_train=None,
    source_test=None,
    target_train=target_train,
    target_test=target_test,
    target_val=split_off(target_train, target_val_size, "target_val_size")[1],
    class_count=len(names),
  )


def split_off(arrays: dict, size: int, field: str = "source_val_size") -> tuple[dict, dict | None]:
  """(rest, `size` held-out examples) by a fixed permutation (same for all seeds).

  `field` names the config field that asked for them, for the error.
  """
  if size == 0:
    return arrays, None
  n = len(arrays["label"])
  if size >= n:
    domain = field.split("_")[0]
    raise ConfigError(f"config.data.{field}={size} must be < the {n} {domain} train examples")
  order = np.random.default_rng(0).permutation(n)
  take = lambda idx: {k: v[np.sort(idx)] for k, v in arrays.items()}  # noqa: E731
  return take(order[size:]), take(order[:size])


def per_class(arrays: dict, k: int, seed: int) -> dict:
  """`k` random examples of every class (all if k == 0), drawn by (seed)."""
  if k == 0:
    return arrays
  rng = np.random.default_rng([seed, 1])
  labels = arrays["label"]
  idx = []
  for c in np.unique(labels):
    members = np.flatnonzero(labels == c)
    if len(members) < k:
      raise ConfigError(
        f"config.data.target_labels_per_class={k} but class {c} has only {len(members)} "
        "training examples; lower it"
      )
    idx.append(rng.choice(members, k, replace=False))
  idx = np.sort(np.concatenate(idx))
  return {key: v[idx] for key, v in arrays.items()}


def training_sets(config, data: Domains, streams) -> dict[str, dict]:
  """This process's training arrays by stream (the streams' and `Method.prepare`'s data).

  SOURCE: labelled source train (not in a source-free run); TARGET: target
  train images without their labels, with each one's row number ("index",
  for methods that keep something per target example); TARGET_LABELLED
  (only if `streams` has it): the run's `data.target_labels_per_class`
  labelled target images per class (all with 0), drawn by the seed from the
  target train examples outside `target_val`.
  """
  target = data.target_train["input"]
  sets = {TARGET: {"input": target, "index": np.arange(len(target), dtype=np.int32)}}
  if data.source_train is not None:
    sets[SOURCE] = data.source_train
  if TARGET_LABELLED in streams:
    k = config.data.target_labels_per_class // jax.process_count()  # validate_config checks.
    count = jax.process_count()
    labelled, _ = split_off(
      data.target_train, config.data.target_val_size // count, "target_val_size"
    )
    sets[TARGET_LABELLED] = per_class(labelled, k, config.seed)
  return sets


def training_streams(config, sets: dict[str, dict], streams) -> dict[str, Stream]:
  """The streams a method reads (`Method.streams`) over its training sets: this process's rows.

  `sets`: `training_sets`, as `core.prepare` returned them (the SOURCE set
  then carries instance weights as "weight", which ride along its batches).
  Batch order: SOURCE and TARGET_LABELLED by the seed, TARGET by seed + 1.
  Target labels never enter a TARGET batch: adaptation cannot read them.
  """
  count = jax.process_count()
  bs, seed = config.data.batch_size // count, config.seed
  shard = jax.process_index() if count > 1 else None
  out = {}
  for name in streams:
    if name not in LABELLED:
      raise ValueError(f"unknown stream {name!r}; streams are {list(LABELLED)}")
    if name == SOURCE and domains.count(sets[name]) > 1:
      out[name] = DomainStream(sets[name], bs, seed, shard)
    else:
      out[name] = Stream(sets[name], bs, seed + 1 if name == TARGET else seed, shard)
  return out


def labelled_examples(streams: dict[str, Stream]) -> int:
  """Labelled training examples across the streams (all processes)."""
  local = sum(len(s.arrays["label"]) for s in streams.values() if "label" in s.arrays)
  return local * jax.process_count()


def num_classes(data: Domains) -> int:
  """Classes of the run: those of the labelled source (0..max), checked against every split.

  A label outside them in another split would be dropped from the confusion
  matrix without a word; it is a DataError instead. With an unknown class
  (`data.unknown`), the target splits may also hold label K, "unknown".
  """
  if data.source_free:
    return data.class_count
  k = int(data.source_train["label"].max()) + 1
  for name, arrays in data.splits().items():
    if "label" not in arrays or not len(arrays["label"]):
      continue
    low, high = int(arrays["label"].min()), int(arrays["label"].max())
    allowed = k + 1 if data.unknown and name.startswith("target") else k
    if low < 0 or high >= allowed:
      bad = low if low < 0 else high
      raise DataError(
        f"{name} has label {bad}, outside the source's {k} classes 0..{k - 1}: the two "
        "domains must share one label set (check config.data.source and .target)"
      )
  return k

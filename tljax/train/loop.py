"""train_and_evaluate(config, workdir): the only impure code in tljax."""

import dataclasses
import json
import logging
import os
import re
import signal
import time
from typing import NamedTuple

import jax
from jax.experimental import multihost_utils
import ml_collections
import numpy as np

from tljax import checkpoint, models
from tljax import metrics as metrics_lib
from tljax.data import domains, pipeline
from tljax.errors import ConfigError, DataError
from tljax.train import diagnostics, evaluation, optim, parallel, pretrained, reverse, steps
from tljax.train import state as state_lib

log = logging.getLogger("tljax")


def validate_config(config: ml_collections.ConfigDict) -> None:
  """Raises ConfigError naming the first field that cannot work."""
  if config.method.name not in steps.METHODS:
    raise ConfigError(
      f"config.method.name={config.method.name!r} is unknown; choose one of {list(steps.METHODS)}"
    )
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
  if config.method.trade_off < 0:
    raise ConfigError(f"config.method.trade_off={config.method.trade_off!r} must be >= 0")
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
  models.build_models(config.model, num_classes=2)  # Checks names only.
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


@dataclasses.dataclass
class Domains:
  """The four splits of a source -> target run, as in-memory arrays."""

  source_train: dict
  source_test: dict
  target_train: dict
  target_test: dict
  source_val: dict | None = None  # Held out from source train (data.source_val_size).


def load_domains(data: ml_collections.ConfigDict) -> Domains:
  """This process's shard of the four splits (all of them with one process).

  With several processes, process 0 prepares the datasets first, then every
  process reads only its contiguous 1/process_count of every split.
  """
  primary = jax.process_index() == 0
  shard = (jax.process_index(), jax.process_count())
  loaded = _load_domains(data, shard) if primary else None
  if jax.process_count() > 1:  # The others read what process 0 prepared.
    multihost_utils.sync_global_devices("tljax: datasets prepared")
  loaded = loaded if primary else _load_domains(data, shard)
  if shard[1] > 1:
    log.info(
      "process %d of %d reads shard %d of every split: %s",
      shard[0],
      shard[1],
      shard[0],
      ", ".join(f"{k} {len(v['label'])}" for k, v in vars(loaded).items() if v is not None),
    )
  return loaded


def _load_domains(data: ml_collections.ConfigDict, shard: tuple[int, int] = (0, 1)) -> Domains:
  def load(name, split):
    arrays = pipeline.load_split(
      name, split, data_dir=data.data_dir, manual_dir=data.manual_dir, shard=shard
    )
    arrays["image"] = domains.match_channels(arrays["image"], data.channels)
    arrays["image"] = domains.resize_images(arrays["image"], data.image_size)
    return arrays

  val_size = data.source_val_size // shard[1]  # Each process holds out its part.
  source_train, source_val = split_off(load(data.source, data.train_split), val_size)
  return Domains(
    source_train=source_train,
    source_test=load(data.source, data.test_split),
    target_train=load(data.target, data.train_split),
    target_test=load(data.target, data.test_split),
    source_val=source_val,
  )


def split_off(arrays: dict, size: int) -> tuple[dict, dict | None]:
  """(rest, `size` held-out examples) by a fixed permutation (same for all seeds)."""
  if size == 0:
    return arrays, None
  n = len(arrays["label"])
  if size >= n:
    raise ConfigError(f"config.data.source_val_size={size} must be < the {n} source train examples")
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


def training_streams(config, data: Domains):
  """(labelled stream, unlabelled target stream or None): this process's rows of each batch."""
  count = jax.process_count()
  bs, seed = config.data.batch_size // count, config.seed
  shard = jax.process_index() if count > 1 else None
  method = config.method.name
  labelled = data.source_train
  if method == "target_only":
    k = config.data.target_labels_per_class // count  # Per process; validate_config checks.
    labelled = per_class(data.target_train, k, seed)
  labelled_stream = domains.Stream(labelled, bs, seed, shard)
  if method != "dann":
    return labelled_stream, None
  return labelled_stream, domains.Stream(data.target_train, bs, seed + 1, shard)


def evaluate(eval_fn, state, arrays, batch_size: int) -> dict:
  """Accuracy etc. on a split; with several processes, over every process's shard."""
  confusion = sum(
    np.asarray(eval_fn(state, batch)["confusion"])
    for batch in domains.eval_batches(arrays, batch_size)
  )
  if jax.process_count() > 1:
    confusion = np.asarray(multihost_utils.process_allgather(confusion)).sum(axis=0)
  return steps.confusion_summary(confusion)


def evaluate_all(eval_fn, state, data: Domains, batch_size: int) -> dict:
  return {
    "source_test": evaluate(eval_fn, state, data.source_test, batch_size),
    "target_test": evaluate(eval_fn, state, data.target_test, batch_size),
  }


class Built(NamedTuple):
  """What `build` returns; `placement.put_state` moves `state` where `train_step` wants it."""

  state: state_lib.TrainState
  train_step: object
  eval_step: object
  placement: parallel.Placement
  init_report: dict | None  # Which params came from a pretrained checkpoint (None: none).


def build(config, image_shape, num_classes) -> Built:
  """Models, optimizer, initial (host) state and the compiled steps for `config`.

  The initial state is random, or loaded from `config.model.init_checkpoint` /
  `model.torch_weights`; `model.freeze_backbone` freezes the backbone's params
  in the optimizer, before `optim.param_groups`.
  """
  placement = parallel.Placement(config.parallel)
  classifier, discriminator = models.build_models(config.model, num_classes)
  init_rng, _ = jax.random.split(jax.random.key(config.seed))
  params, batch_stats = state_lib.init_variables(init_rng, classifier, discriminator, image_shape)
  params, batch_stats, report = pretrained.load(config.model, params, batch_stats)
  optim_config = config.optim
  if config.model.freeze_backbone:
    optim_config = ml_collections.ConfigDict(config.optim.to_dict())
    optim_config.param_groups = ((r"^classifier/backbone/", None), *config.optim.param_groups)
  tx, lr_schedule = optim.make_optimizer(
    optim_config, config.train.num_steps, pretrained.loaded_mask(params, report)
  )
  state = state_lib.new_train_state(params, batch_stats, tx)
  hparams = steps.StepHParams(
    method=config.method.name,
    trade_off=config.method.trade_off,
    num_steps=config.train.num_steps,
    grl_gamma=config.method.grl_gamma,
    grl_max=config.method.grl_max,
    random_shift=config.data.random_shift,
    ema_decay=config.train.ema_decay,
  )
  train_step = placement.compile(
    steps.make_train_step(
      classifier=classifier,
      discriminator=discriminator,
      tx=tx,
      lr_schedule=lr_schedule,
      hparams=hparams,
    )
  )
  eval_step = jax.jit(
    lambda s, b: steps.eval_step(s, b, classifier=classifier, num_classes=num_classes)
  )
  return Built(state, train_step, eval_step, placement, report)


def _history_entry(step: int, results: dict, scores: dict | None, flat: bool = False) -> dict:
  """One evaluation: accuracies per split and validator scores (flat: metrics.jsonl keys)."""
  if flat:
    out = {f"eval/{split}/accuracy": r["accuracy"] for split, r in results.items()}
    out.update({f"validators/{k}": v for k, v in (scores or {}).items()})
    return out
  entry = {"step": step, **{f"{split}_accuracy": r["accuracy"] for split, r in results.items()}}
  if scores:
    entry["validators"] = scores
  return entry


def _init_summary(model, report: dict | None) -> dict | None:
  if report is None:
    return None
  return {
    "init_checkpoint": model.init_checkpoint,
    "torch_weights": model.torch_weights,
    "skip_load": list(model.skip_load),
    **{k: len(v) for k, v in report.items()},
    "skipped_names": report["skipped"],
    "new_names": report["new"],
  }


def _log_eval(step: int, results: dict) -> None:
  log.info(
    "eval step %d | source_test acc %.4f | target_test acc %.4f",
    step,
    results["source_test"]["accuracy"],
    results["target_test"]["accuracy"],
  )


def _write_json(path: str, obj) -> None:
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(obj, f, indent=2)
  os.replace(tmp, path)


class Preempted(Exception):
  """SIGTERM or SIGINT arrived; a checkpoint of the current step was saved."""

  def __init__(self, signum: int, step: int):
    super().__init__(f"stopped by signal {signum} at step {step}")
    self.signum, self.step = signum, step


def _differences(old: dict, new: dict, prefix: str = "") -> list[str]:
  """'optim.lr: 0.01 -> 0.02' for every leaf that differs between two dicts."""
  out = []
  for key in sorted(set(old) | set(new)):
    a, b = old.get(key), new.get(key)
    if isinstance(a, dict) and isinstance(b, dict):
      out += _differences(a, b, f"{prefix}{key}.")
    elif a != b:
      out.append(f"{prefix}{key}: {a!r} -> {b!r}")
  return out


def check_workdir_config(config, workdir: str, allow_config_change: bool) -> None:
  """Refuses to resume a workdir that holds a run of another config."""
  path = os.path.join(workdir, "config.json")
  if allow_config_change or not os.path.exists(path):
    return
  with open(path) as f:
    old = json.load(f)
  new = json.loads(json.dumps(config.to_dict()))  # Tuples -> lists, as on disk.
  diffs = _differences(old, new)
  if diffs:
    raise ConfigError(
      f"workdir {workdir} holds a run of another config ({'; '.join(diffs[:3])}); "
      "use another --workdir, or --allow_config_change to resume it anyway"
    )


def train_and_evaluate(
  config: ml_collections.ConfigDict,
  workdir: str,
  allow_config_change: bool = False,
  data: Domains | None = None,
) -> dict:
  """Trains `config.method` from source to target; writes results.json.

  Resumes from the newest readable checkpoint in `workdir/checkpoints`.
  Returns the results dict that is written to `workdir/results.json`. Raises
  `Preempted` after saving a checkpoint if SIGTERM/SIGINT arrives, and
  FloatingPointError (after recording it in results.json) if the loss stops
  being finite. `data` (from `load_domains(config.data)`) saves reloading the
  splits when one process trains several configs on the same data.
  """
  start_time = time.time()
  validate_config(config)
  check_workdir_config(config, workdir, allow_config_change)
  primary = jax.process_index() == 0
  if primary:
    os.makedirs(workdir, exist_ok=True)
    _write_json(os.path.join(workdir, "config.json"), config.to_dict())
  data = data or load_domains(config.data)
  num_classes = int(data.source_train["label"].max()) + 1
  state, train_step, eval_step, placement, init_report = build(
    config, data.source_train["image"].shape[1:], num_classes
  )
  manager = checkpoint.make_manager(workdir)
  state, restored_step = checkpoint.restore_latest(manager, state)
  start_step = int(restored_step or 0)
  if restored_step is not None:
    log.info("resuming from checkpoint at step %d in %s", start_step, workdir)
  evaluator = evaluation.Evaluator(config, num_classes)
  loop = _Loop(config, placement, train_step, eval_step, evaluator, data, manager, workdir)
  try:
    state = loop.run(placement.put_state(state), start_step)
  except FloatingPointError as e:
    if primary:
      failure = {"status": "diverged", "error": str(e), "config": config.to_dict()}
      _write_json(os.path.join(workdir, "results.json"), failure)
    raise
  finally:
    manager.wait_until_finished()
  state = placement.local_state(state)
  final = evaluate_all(eval_step, state, data, config.data.eval_batch_size)
  _log_eval(int(state.step), final)
  pad = evaluation.domain_discrepancy(loop.evaluator, state, data, config.seed)
  log.info(
    "proxy A-distance source_test vs target_test: features %.3f, pixels %.3f",
    pad["features"],
    pad["pixels"],
  )
  scores = loop.validate(state, int(state.step), final=True)
  history = metrics_lib.eval_history(workdir) if primary else []
  history = [h for h in history if h["step"] < int(state.step)]
  history.append(_history_entry(int(state.step), final, scores))
  manager.wait_until_finished()
  manager.close()
  results = {
    "status": "finished",
    "method": config.method.name,
    "source": config.data.source,
    "target": config.data.target,
    "seed": config.seed,
    "steps": int(state.step),
    "resumed_from_step": start_step,
    "wall_seconds": round(time.time() - start_time, 2),
    "source_test_accuracy": final["source_test"]["accuracy"],
    "target_test_accuracy": final["target_test"]["accuracy"],
    "selection": "final checkpoint (no target labels used to select)",
    "labelled_train_examples": len(training_streams(config, data)[0].arrays["label"])
    * jax.process_count(),
    "init": _init_summary(config.model, init_report),
    "warnings": loop.warnings,
    "final": final,
    "proxy_a_distance": pad,
    "validators": scores,
    "selected_by_validator": evaluation.selections(history) if scores else None,
    "eval_history": history,
    "config": config.to_dict(),
  }
  if primary:
    _write_json(os.path.join(workdir, "results.json"), results)
    log.info("wrote %s", os.path.join(workdir, "results.json"))
  return results


@dataclasses.dataclass
class _Loop:
  """The step loop: log, evaluate and checkpoint at their intervals."""

  config: ml_collections.ConfigDict
  placement: parallel.Placement
  train_step: object
  eval_step: object
  evaluator: evaluation.Evaluator
  data: Domains
  manager: object
  workdir: str
  monitor: diagnostics.CollapseMonitor = dataclasses.field(
    default_factory=diagnostics.CollapseMonitor
  )
  warnings: list = dataclasses.field(default_factory=list)

  def batches(self, start_step: int):
    labelled, target = training_streams(self.config, self.data)
    for rows in domains.paired_batches(labelled, target, start_step):
      yield self.placement.put_batch(rows)

  def run(self, state, start_step: int):
    """Trains to `train.num_steps`; see `train_and_evaluate` for what it raises."""
    received = []
    handler = lambda signum, frame: received.append(signum)
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
      return self._run(state, start_step, received)
    finally:
      for sig, old in previous.items():
        signal.signal(sig, old)

  def _run(self, state, start_step: int, received: list):
    tc = self.config.train
    writer = metrics_lib.MetricWriter(self.workdir, enabled=jax.process_index() == 0)
    base_rng = jax.random.key(self.config.seed)
    batches = self.batches(start_step)
    pending = []
    last_time, last_step = time.time(), start_step
    for step in range(start_step + 1, tc.num_steps + 1):
      state, step_metrics = self.train_step(state, next(batches), base_rng)
      pending.append(self.placement.metrics(step_metrics))
      # Also check before every checkpoint, so no non-finite state is saved.
      checkpoint_now = step % tc.ckpt_every == 0 or step == tc.num_steps or bool(received)
      if step % tc.log_every == 0 or checkpoint_now:
        scalars = metrics_lib.mean_metrics(jax.device_get(pending))
        pending = []
        bad = [k for k, v in scalars.items() if not np.isfinite(v)]
        if bad:
          raise FloatingPointError(
            f"training diverged: {bad[0]}={scalars[bad[0]]} in the steps up to {step}; the "
            "last good checkpoint is kept; lower config.optim.lr or set config.optim.clip_norm"
          )
        now = time.time()
        rate = (step - last_step) / max(now - last_time, 1e-9)
        last_time, last_step = now, step
        writer.write(step, {f"train/{k}": v for k, v in scalars.items()})
        log.info(metrics_lib.progress_line(step, tc.num_steps, scalars, rate))
        if "domain_acc_source" in scalars:
          warning = self.monitor.update(
            step, scalars["domain_acc_source"], scalars["domain_acc_target"]
          )
          if warning:
            log.warning("warning: %s", warning)
            self.warnings.append(warning)
      if step % tc.eval_every == 0 and step != tc.num_steps:
        local_state = self.placement.local_state(state)
        results = evaluate_all(
          self.eval_step, local_state, self.data, self.config.data.eval_batch_size
        )
        _log_eval(step, results)
        scores = self.validate(local_state, step)
        writer.write(step, _history_entry(step, results, scores, flat=True))
        last_time = time.time()  # Steps/s measures training alone.
      if checkpoint_now:
        checkpoint.save(self.manager, self.placement.host_state(state))
      if received:
        self.manager.wait_until_finished()
        raise Preempted(received[0], step)
    return state

  def validate(self, state, step: int, final: bool = False) -> dict | None:
    """Label-free validator scores, when there is a source validation split.

    The final evaluation adds the network-level reverse validation when
    `train.reverse_dann_steps` > 0 (one short training run).
    """
    if self.data.source_val is None:
      return None
    scores = evaluation.validator_scores(self.evaluator, state, self.data, self.config.seed)
    steps_ = self.config.train.reverse_dann_steps
    if final and steps_:
      log.info("reverse validation: training a reverse DANN for %d steps", steps_)
      scores["reverse_dann"] = round(
        reverse.reverse_validation(self.config, self.evaluator, state, self.data, steps_), 5
      )
    log.info("validators step %d | %s", step, " | ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    return scores

"""Test-time adaptation: a source-trained network adapts while it predicts a target stream.

`run(...)` streams each target test set once in batches (a seeded order),
predicts each batch and adapts on it (the method's train step on that batch
alone; no labels, no source data), and counts the online accuracy: every
example is predicted exactly once, by the model as it was when its batch
arrived. `episodic` resets the model to the source weights after each batch;
`continual` never resets, across every target in turn and `repeats` passes
over the sequence. Method "source" predicts without adapting (evaluation
mode, the source's BatchNorm statistics): the baseline.
"""

import dataclasses
import logging
import os
import time

import jax
import numpy as np

from tljax import core, files, methods
from tljax.data import corruptions, pipeline
from tljax.errors import ConfigError, DataError
from tljax.run import build
from tljax.run import finished as finished_run

log = logging.getLogger("tljax")

MODES = ("episodic", "continual")
BASELINE = "source"
CORRUPTED = {"mnist_corruptions": "MNIST-C", "mnist_m_corruptions": "MNIST-M-C"}


@dataclasses.dataclass(frozen=True)
class Plan:
  """What one test-time run does."""

  source_run: str  # A finished run's workdir: its config and final weights.
  targets: tuple[str, ...]  # TFDS names, adapted on in this order.
  method: str = "tent"  # A test-time method (streams only TARGET), or "source".
  mode: str = "continual"
  repeats: int = 1  # Passes over the whole target sequence (continual: a long stream).
  batch_size: int = 64
  lr: float = 1e-3
  seed: int = 0


def check(plan: Plan) -> None:
  """ConfigError (one line) for a plan that cannot run, before anything is loaded."""
  if plan.mode not in MODES:
    raise ConfigError(f"--mode={plan.mode!r} must be one of {list(MODES)}")
  if plan.repeats < 1 or plan.batch_size < 1 or plan.lr <= 0:
    raise ConfigError(
      f"--repeats={plan.repeats}, --batch_size={plan.batch_size} and --lr={plan.lr} must be > 0"
    )
  if not plan.targets:
    raise ConfigError("--targets is empty: give one or more target datasets")
  if plan.method != BASELINE:
    names = test_time_methods()
    if plan.method not in names:
      raise ConfigError(
        f"--method={plan.method!r} is not a test-time method (it must read only target "
        f"inputs); choose one of {[BASELINE, *names]}"
      )
  for name in plan.targets:
    family, _, config = name.partition("/")
    if family in CORRUPTED:
      corruption, severity = (
        config.rsplit("_", 1)
        if family == "mnist_m_corruptions"
        else (config, str(corruptions.MNIST_C_SEVERITY))
      )  # fmt: skip
      listed = corruptions.COLOUR if family == "mnist_m_corruptions" else corruptions.MNIST_C
      if corruption not in listed:
        raise ConfigError(
          f"target {name!r}: {CORRUPTED[family]} has no corruption {corruption!r}; choose one "
          f"of {list(listed)}"
        )
      corruptions.check(corruption, int(severity) if severity.isdigit() else -1)
    else:
      pipeline.check_dataset_name("target", name)


def test_time_methods() -> list[str]:
  """Methods that read target inputs only, start from a source run and keep nothing per target
  example (Tent, AdaBN, EATA; not SHOT or NRC, which prepare a memory of the target set)."""
  found = {n: methods.find(n) for n in methods.names()}
  return [
    n
    for n, cls in found.items()
    if cls.streams == (core.TARGET,) and cls.pretrained and cls.prepare is core.Method.prepare
  ]


def run(plan: Plan, data_dir: str | None = None, manual_dir: str | None = None) -> dict:
  """The online accuracy of `plan`: per target and pass, and per batch (see the module doc)."""
  check(plan)
  finished = finished_run.results(plan.source_run)
  config = test_time_config(finished, plan, data_dir, manual_dir)
  final = finished["final"]  # A source-free run evaluated the target's splits alone.
  num_classes = len(final["source_test" if "source_test" in final else "target_test"]["confusion"])
  targets = {name: _load(name, config, num_classes) for name in plan.targets}
  shape = next(iter(targets.values()))["input"].shape[1:]
  built = build.build(config, shape, num_classes)
  predict = _predictor(built, plan)
  initial = jax.tree.map(np.asarray, built.state)  # The source weights, for resets.
  state = built.placement.put_state(built.state)
  rng = jax.random.key(plan.seed)
  passes, start = [], time.time()
  curve = {k: [] for k in ("target", "pass", "size", "accuracy", "top_class_share")}
  for repeat in range(plan.repeats):
    for index, (name, arrays) in enumerate(targets.items()):
      order = np.random.default_rng([plan.seed, repeat, index]).permutation(len(arrays["label"]))
      correct = 0
      for first in range(0, len(order), plan.batch_size):
        rows = order[first : first + plan.batch_size]
        if plan.mode == "episodic":
          state = built.placement.put_state(initial)
        state, predicted = predict(state, arrays["input"][rows], rng)
        hits = int((predicted == arrays["label"][rows]).sum())
        correct += hits
        counts = np.bincount(predicted, minlength=num_classes)
        curve["target"].append(index)
        curve["pass"].append(repeat)
        curve["size"].append(len(rows))
        curve["accuracy"].append(round(hits / len(rows), 4))
        curve["top_class_share"].append(round(float(counts.max() / len(rows)), 4))
      accuracy = correct / len(order)
      passes.append({"target": name, "pass": repeat, "accuracy": round(accuracy, 6)})
      log.info("pass %d, %s: online accuracy %.4f", repeat + 1, name, accuracy)
  first = [p["accuracy"] for p in passes if p["pass"] == 0]
  return {
    "status": "finished",
    "plan": dataclasses.asdict(plan),
    "source_run": os.path.abspath(plan.source_run),
    "source_method": finished["method"],
    "accuracy": passes,
    "mean_error_first_pass": round(1 - float(np.mean(first)), 6),
    "mean_accuracy_last_pass": round(
      float(np.mean([p["accuracy"] for p in passes if p["pass"] == plan.repeats - 1])), 6
    ),
    "batches": curve,  # Per batch, in order; `target` indexes plan.targets.
    "wall_seconds": round(time.time() - start, 1),
  }


def test_time_config(finished: dict, plan: Plan, data_dir, manual_dir):
  """The source run's config, set to adapt with `plan.method` from its final weights."""
  config = finished_run.stored_config(finished["config"])
  if data_dir:
    config.data.data_dir = data_dir
  if manual_dir:
    config.data.manual_dir = manual_dir
  config.method.name = "source_only" if plan.method == BASELINE else plan.method
  config.model.init_checkpoint = plan.source_run
  config.model.torch_weights = None
  config.model.skip_load = ()
  config.data.batch_size = plan.batch_size
  config.data.random_shift = 0  # Test images as they are: no augmentation in the views.
  if "audio" in config.data:
    config.data.audio.shift = config.data.audio.masks = 0
  config.optim.update(
    name="sgd", lr=plan.lr, momentum=0.9, schedule="constant", weight_decay=0.0, clip_norm=0.0,
    l2sp_alpha=0.0, l2sp_beta=0.0, param_groups=(),
  )  # fmt: skip
  config.model.freeze_backbone = False
  config.train.ema_decay, config.train.average_from = 0.0, -1
  config.train.num_steps = 1
  config.parallel = "single"
  config.seed = plan.seed
  return config


def _load(name: str, config, num_classes: int) -> dict:
  arrays, names = pipeline.load(name, "test", config.data)
  if not len(arrays["label"]):
    raise DataError(f"target {name!r} has no test examples: nothing to adapt on")
  if len(names) != num_classes:
    raise ConfigError(
      f"target {name!r} has {len(names)} classes, the source run {num_classes}: test-time "
      "adaptation keeps the source's classes"
    )
  return {"input": np.asarray(arrays["input"]), "label": np.asarray(arrays["label"])}


def _predictor(built, plan: Plan):
  """(state, inputs, rng) -> (state, predicted labels) for the plan's method."""
  if plan.method == BASELINE:
    evaluate = jax.jit(
      lambda s, x: built.method.predict(
        *built.classifier.apply(
          {"params": s.ema_params, "batch_stats": s.batch_stats["classifier"]}, x, train=False
        ),
        s.params,
        s.batch_stats,
      )
    )
    return lambda state, x, rng: (state, np.asarray(evaluate(state, x)))

  def adapt(state, x, rng):
    state, metrics = built.train_step(state, {core.TARGET: {"input": x}}, rng)
    return state, np.asarray(metrics["predictions"])

  return adapt


def write(results: dict, workdir: str) -> None:
  """results.json and, for a stream of more than one pass or target, the online-accuracy plot."""
  os.makedirs(workdir, exist_ok=True)
  files.write_json(os.path.join(workdir, "results.json"), results)
  from tljax.analysis import plots  # pylint: disable=g-import-not-at-top

  plots.online_accuracy(results, os.path.join(workdir, "online_accuracy.png"))

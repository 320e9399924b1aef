"""train_and_evaluate(config, workdir): the only impure code in tljax."""

import contextlib
import dataclasses
import logging
import os
import time

import jax
import ml_collections
import numpy as np

from tljax import checkpoint, files
from tljax import metrics as metrics_lib
from tljax.data import splits
from tljax.data import streams as streams_lib
from tljax.errors import ConfigError
from tljax.run import (
  build,
  evaluation,
  provenance,
  results,
  reverse,
  signals,
  validate,
)
from tljax.run import workdir as workdir_lib

log = logging.getLogger("tljax")
Preempted = signals.Preempted


def train_and_evaluate(
  config: ml_collections.ConfigDict,
  workdir: str,
  allow_config_change: bool = False,
  data: splits.Domains | None = None,
  allow_restart: bool = False,
) -> dict:
  """Trains `config.method` from source to target; writes results.json.

  Resumes from the newest readable checkpoint in `workdir/checkpoints`.
  Returns the results dict that is written to `workdir/results.json`. Raises
  `Preempted` after saving a checkpoint if SIGTERM/SIGINT arrives, and
  FloatingPointError (after recording it in results.json) if the loss stops
  being finite. `data` (from `splits.load_domains(config.data)`) saves
  reloading the splits when one process trains several configs on the same data.
  `allow_restart` trains from step 0 when checkpoints exist but none can be read
  (see `checkpoint.restore_latest`); without it that is an error.
  """
  method = validate.validate_config(config)
  primary = jax.process_index() == 0
  with workdir_lib.locked(workdir) if primary else contextlib.nullcontext():
    return _train_and_evaluate(config, method, workdir, allow_config_change, data, allow_restart)


def _train_and_evaluate(config, method, workdir, allow_config_change, data, allow_restart) -> dict:
  with prepared(config, method, workdir, allow_config_change, data, allow_restart) as ready:
    return finish(*ready)


@contextlib.contextmanager
def prepared(config, method, workdir, allow_config_change, data, allow_restart):
  """Yields (loop, state, start step) of a run ready to train: built, restored, recorded."""
  start_time = time.time()
  workdir_lib.check_workdir_config(config, workdir, allow_config_change)
  data = data or splits.load_domains(config.data, source=not method.source_free)
  num_classes = splits.num_classes(data)
  sets = splits.training_sets(config, data, method.streams)
  shape = data.input_shape
  # Prepared before restoring: the method's prepared state is part of the checkpoint.
  built = build.build(config, shape, num_classes, sets, method, unknown=data.unknown)
  manager = checkpoint.make_manager(workdir)
  with checkpoint.disk_full_is_one_line(workdir):
    state, restored_step = checkpoint.restore_latest(manager, built.state, allow_restart)
    primary = jax.process_index() == 0
    if primary:  # The run can start (its checkpoint restored): only now is its config recorded.
      files.write_json(os.path.join(workdir, "config.json"), config.to_dict())
    setup = provenance.record(config.parallel)
    prior = workdir_lib.read_progress(workdir, restored_step)
    if restored_step is not None:
      log.info("resuming from checkpoint at step %d in %s", restored_step, workdir)
    streams = splits.training_streams(config, built.sets, built.method.streams)
    evaluator = evaluation.Evaluator(config, built.method.outputs)
    loop = _Loop(
      config, built, streams, evaluator, data, manager, workdir, start_time, prior, setup
    )
    loop.warnings += _check_resume(workdir, prior, setup, allow_config_change)
    yield loop, state, int(restored_step or 0)


def finish(loop: "_Loop", state, start_step: int, trained=None) -> dict:
  """Trains from `start_step` (or takes `trained`, the final state another loop trained),
  evaluates the final state and writes results.json; returns it."""
  out = _train_then_evaluate(loop, state, start_step, trained)
  if jax.process_index() == 0:
    files.write_json(os.path.join(loop.workdir, "results.json"), out)
    log.info("wrote %s", os.path.join(loop.workdir, "results.json"))
  return out


def _train_then_evaluate(loop: "_Loop", state, start_step: int, trained=None) -> dict:
  """Trains from `start_step`, evaluates the final state: what results.json holds."""
  config, built, manager, workdir = loop.config, loop.built, loop.manager, loop.workdir
  try:
    if trained is None:
      trained = loop.run(built.placement.put_state(state), start_step)
    state = trained
  except FloatingPointError as e:
    if jax.process_index() == 0:
      failure = {"status": "diverged", "error": str(e), "config": config.to_dict()}
      files.write_json(os.path.join(workdir, "results.json"), failure)
    raise
  finally:
    manager.wait_until_finished()
  state = built.placement.local_state(state)
  try:
    with signals.noted(signals.caught_signals()) as received:  # The final checkpoint is saved.
      final, pad, scores = _final_evaluation(loop, state, received)
    history = results.history(workdir, int(state.step), final, scores)
    loop.write_eval(int(state.step), final, scores)  # The final evaluation, logged as the others.
  finally:
    loop.writer.close()
    manager.wait_until_finished()
    manager.close()
  run = {
    "start_step": start_step,
    "wall_seconds": round(loop.elapsed(), 2),
    "labelled_train_examples": splits.labelled_examples(loop.streams),
    "reads_target_labels": built.method.reads_target_labels,
    "init_report": built.init_report,
    "warnings": loop.warnings,
  }
  return {**results.finished(config, state, final, pad, scores, history, run), **loop.setup}


def _final_evaluation(loop: "_Loop", state, received: list):
  """(accuracies, proxy A-distance, validator scores) of the final state.

  A SIGTERM or Ctrl-C meanwhile stops the run cleanly between the parts
  (`Preempted`): the final checkpoint is saved, so a rerun only evaluates.
  """
  step = int(state.step)

  def check():
    if received:
      raise signals.Preempted(received[0], step, "during the final evaluation")

  data, config = loop.data, loop.config
  final = evaluation.evaluate_all(loop.built.eval_step, state, data, config.data.eval_batch_size)
  evaluation.log_eval(step, final)
  check()
  pad = evaluation.domain_discrepancy(loop.evaluator, state, data, config.seed)
  if pad["features"] is None:
    log.info("proxy A-distance not computed: %s", pad["not_computed"])
  else:
    log.info(
      "proxy A-distance source_test vs target_test: features %.3f, %s",
      pad["features"],
      ", ".join(f"{k} {pad[k]:.3f}" for k in ("pixels", "inputs") if k in pad),
    )
  check()
  scores = loop.validate(state, step, final=True)
  check()
  return final, pad, scores


def _check_resume(workdir: str, prior: dict, setup: dict, allow_config_change: bool) -> list:
  """Warnings for resuming under another setup; ConfigError if the batches would change."""
  refuse, warn = provenance.resume_problems(prior, setup)
  if refuse and not allow_config_change:
    raise ConfigError(
      f"workdir {workdir} was trained with another {refuse[0]}, and every batch depends on "
      "the process count; resume it with the same number of processes, or pass "
      "--allow_config_change to continue with other batches"
    )
  notes = [f"resumed under another setup: {'; '.join(refuse + warn)}"] if refuse + warn else []
  for note in notes:
    log.warning("warning: %s (bit-exact resumption is not guaranteed)", note)
  return notes


@dataclasses.dataclass
class _Loop:
  """The step loop: log, evaluate and checkpoint at their intervals.

  `prior` is what the run had recorded at the checkpoint it resumes from
  (`workdir.read_progress`): elapsed time, warnings and the method's
  monitors' state carry on from there.
  """

  config: ml_collections.ConfigDict
  built: build.Built
  streams: dict
  evaluator: evaluation.Evaluator
  data: splits.Domains
  manager: object
  workdir: str
  start_time: float
  prior: dict
  setup: dict  # provenance.record(): recorded with every checkpoint.
  prefix: str = ""  # Before its progress and evaluation lines ("seed 1 ": several seeds at once).

  def __post_init__(self):
    self.writer = metrics_lib.MetricWriter(self.workdir, enabled=jax.process_index() == 0)
    self.monitors = self.built.method.monitors()
    saved = self.prior.get("monitors") or [self.prior.get("monitor", {})]  # Older: one monitor.
    for monitor, state in zip(self.monitors, saved):
      monitor.restore(state)
    self.warnings = list(self.prior.get("warnings", []))

  def elapsed(self) -> float:
    """Seconds of this run across all its segments (resumes)."""
    return self.prior.get("elapsed_seconds", 0.0) + time.time() - self.start_time

  def run(self, state, start_step: int):
    """Trains to `train.num_steps`; see `train_and_evaluate` for what it raises."""
    with signals.noted(signals.caught_signals()) as received:
      return self._run(state, start_step, received)

  def save(self, state, step: int) -> None:
    """A checkpoint of `state`, and what a resume from it needs besides the state."""
    checkpoint.save(self.manager, state)
    if jax.process_index() == 0:
      entry = {
        "elapsed_seconds": round(self.elapsed(), 2),
        "warnings": self.warnings,
        "monitors": [monitor.state() for monitor in self.monitors],
        **self.setup,
      }
      workdir_lib.write_progress(self.workdir, step, entry)

  def _run(self, state, start_step: int, received: list):
    tc, placement = self.config.train, self.built.placement
    base_rng = jax.random.key(self.config.seed)
    batches = streams_lib.batches(self.streams, start_step)
    pending = []
    self.start_window(start_step)
    bound = placement.max_in_flight  # None: the host may queue any number of steps.
    for step in range(start_step + 1, tc.num_steps + 1):
      if bound is not None and len(pending) >= bound:
        jax.block_until_ready(pending[-bound])  # At most `bound` collective steps in flight.
      state, step_metrics = self.built.train_step(
        state, placement.put_batch(next(batches)), base_rng
      )
      pending.append(step_metrics)
      # Also check before every checkpoint, so no non-finite state is saved.
      stop = signals.preempted(step, received)
      checkpoint_now = step % tc.ckpt_every == 0 or step == tc.num_steps or stop is not None
      if step % tc.log_every == 0 or checkpoint_now:
        self.log_window(step, jax.device_get(pending))
        pending = []
      if step % tc.eval_every == 0 and step != tc.num_steps:
        self.evaluate_at(step, placement.local_state(state))
      if checkpoint_now:
        self.save(state, step)
      if stop is not None:
        self.manager.wait_until_finished()
        raise signals.Preempted(stop, step)
    return state

  def start_window(self, step: int) -> None:
    """Starts timing steps (the progress line's steps/s) from `step`."""
    self._last_time, self._last_step = time.time(), step

  def log_window(self, step: int, window: list[dict]) -> None:
    """The metrics of the steps since the last line (host arrays): checked finite, written,
    printed, and shown to the method's monitors; FloatingPointError if one is not finite."""
    tc = self.config.train
    scalars = metrics_lib.mean_metrics(window)
    bad = [k for k, v in scalars.items() if not np.isfinite(v)]
    if bad:
      lr = self.config.optim.lr
      raise FloatingPointError(
        f"training diverged: {bad[0]}={scalars[bad[0]]} in the steps up to {step}; the "
        f"last good checkpoint is kept. To continue from it, rerun with "
        f"--allow_config_change and a lower rate (e.g. --config.optim.lr={lr / 10:g}); "
        "to start over with gradient clipping (--config.optim.clip_norm=1, which changes "
        "the optimizer's state), give a new --workdir"
      )
    now = time.time()
    rate = (step - self._last_step) / max(now - self._last_time, 1e-9)
    self._last_time, self._last_step = now, step
    labels = {**metrics_lib.LABELS, **self.built.method.labels}
    self.writer.write(step, {f"train/{k}": v for k, v in scalars.items()})
    log.info(self.prefix + metrics_lib.progress_line(step, tc.num_steps, scalars, rate, labels))
    self._check_health(step, scalars)

  def evaluate_at(self, step: int, local_state) -> None:
    """An evaluation during training: accuracies and validators, logged and written."""
    evals = evaluation.evaluate_all(
      self.built.eval_step, local_state, self.data, self.config.data.eval_batch_size
    )
    evaluation.log_eval(step, evals, self.prefix)
    scores = self.validate(local_state, step)
    self.write_eval(step, evals, scores)
    self._last_time = time.time()  # Steps/s measures training alone.

  def write_eval(self, step: int, evals: dict, scores: dict | None) -> None:
    """An evaluation: accuracies and validator scores, and confusion images for TensorBoard."""
    self.writer.write(step, results.history_entry(step, evals, scores, flat=True))
    self.writer.write_images(
      step,
      {
        f"eval/{k}/confusion": metrics_lib.confusion_image(v["confusion"]) for k, v in evals.items()
      },
    )

  def _check_health(self, step: int, scalars: dict) -> None:
    """The method's monitors' warnings (e.g. a collapsed domain classifier), logged and kept."""
    for monitor in self.monitors:
      warning = monitor.update(step, scalars)
      if warning:
        log.warning("warning: %s", warning)
        self.warnings.append(warning)

  def validate(self, state, step: int, final: bool = False) -> dict | None:
    """Label-free validator scores, when there is a source validation split (or no source data:
    then those that read only the target's inputs).

    The final evaluation adds the network-level reverse validation when
    `train.reverse_validation_steps` > 0 (one short training run).
    """
    if self.data.source_val is None and not self.data.source_free:
      return None
    scores = evaluation.validator_scores(self.evaluator, state, self.data, self.config.seed)
    steps_ = self.config.train.reverse_validation_steps
    if final and steps_ and not self.data.source_free:
      log.info("reverse validation: training a reverse DANN for %d steps", steps_)
      scores["reverse_dann"] = round(
        reverse.reverse_validation(self.config, self.evaluator, state, self.data, steps_), 5
      )
    log.info("validators step %d | %s", step, " | ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    return scores

"""Smoke tests of train_and_evaluate on the tiny config and embedded data."""

import dataclasses
import json
import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests import helpers
from tljax import core
from tljax.core import step as steps
from tljax.data import splits
from tljax.errors import ConfigError
from tljax.run import loop


def test_runs_end_to_end_writes_results_and_resumes(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  results = loop.train_and_evaluate(tiny_config, workdir)
  on_disk = json.load(open(os.path.join(workdir, "results.json")))
  for key in (
    "method",
    "source",
    "target",
    "seed",
    "steps",
    "wall_seconds",
    "source_test_accuracy",
    "target_test_accuracy",
    "config",
  ):
    assert key in on_disk, key
  assert on_disk["steps"] == tiny_config.train.num_steps
  assert 0.0 <= on_disk["target_test_accuracy"] <= 1.0
  assert len(on_disk["final"]["target_test"]["per_class_recall"]) == 10
  pad = on_disk["proxy_a_distance"]
  assert 0.0 <= pad["features"] <= 2.0 and 0.0 <= pad["pixels"] <= 2.0
  assert pad["pixels"] > 1.5  # Gray digits vs digits on colour photos: easy to tell apart.
  assert results["target_test_accuracy"] == on_disk["target_test_accuracy"]
  # A rerun with the same workdir resumes at the end instead of retraining.
  again = loop.train_and_evaluate(tiny_config, workdir)
  assert again["resumed_from_step"] == tiny_config.train.num_steps
  assert again["target_test_accuracy"] == results["target_test_accuracy"]


def test_resume_from_a_middle_checkpoint_is_exact(tiny_config, tmp_path):
  full, cut = str(tmp_path / "full"), str(tmp_path / "cut")
  loop.train_and_evaluate(tiny_config, full)
  loop.train_and_evaluate(tiny_config, cut)
  # Lose the final checkpoint: the rerun restarts from step 3 of 6.
  shutil.rmtree(os.path.join(cut, "checkpoints", "6"))
  resumed = loop.train_and_evaluate(tiny_config, cut)
  assert resumed["resumed_from_step"] == 3
  state_full, _ = helpers.final_state(tiny_config, full)
  state_cut, _ = helpers.final_state(tiny_config, cut)
  jax.tree.map(np.testing.assert_array_equal, state_full, state_cut)


def test_the_baselines_read_only_their_own_domain(tiny_config, tmp_path):
  data = splits.load_domains(tiny_config.data)
  tiny_config.method.name = "source_only"
  source_only = loop.train_and_evaluate(tiny_config, str(tmp_path / "so"), data=data)
  assert source_only["labelled_train_examples"] == len(data.source_train["label"])
  assert not source_only["reads_target_labels"]
  # It never reads the target: blank target images train the very same network.
  blank = dataclasses.replace(
    data, target_train={**data.target_train, "input": np.zeros_like(data.target_train["input"])}
  )
  again = loop.train_and_evaluate(tiny_config, str(tmp_path / "so_blank"), data=blank)
  assert again["eval_history"] == source_only["eval_history"]
  tiny_config.method.name = "target_only"
  target_only = loop.train_and_evaluate(tiny_config, str(tmp_path / "to"), data=data)
  assert target_only["labelled_train_examples"] == len(data.target_train["label"])
  assert target_only["reads_target_labels"]


def test_images_are_resized_to_the_configured_size(tiny_config):
  original = splits.load_domains(tiny_config.data).source_test["input"]
  tiny_config.data.image_size = 32
  data = splits.load_domains(tiny_config.data)
  assert data.source_train["input"].shape[1:] == (32, 32, 3)
  resized = data.source_test["input"]
  assert resized.shape == (len(original), 32, 32, 3) and resized.dtype == np.uint8
  # Bilinear resizing keeps each image: mean brightness moves by under 2 levels.
  diff = resized.mean(axis=(1, 2, 3)) - original.mean(axis=(1, 2, 3))
  assert np.abs(diff).max() < 2.0


def test_nan_stops_the_run_keeps_the_last_good_checkpoint_and_records_it(
  tiny_config, tmp_path, monkeypatch
):
  original = steps.train_step

  def nan_from_step_4(state, batch, rng, **deps):
    new_state, metrics = original(state, batch, rng, **deps)
    metrics["loss"] = jnp.where(state.step >= 3, jnp.nan, metrics["loss"])
    return new_state, metrics

  monkeypatch.setattr(steps, "train_step", nan_from_step_4)
  workdir = str(tmp_path / "run")
  with pytest.raises(FloatingPointError, match="loss=nan in the steps up to 4"):
    loop.train_and_evaluate(tiny_config, workdir)
  assert os.listdir(os.path.join(workdir, "checkpoints")) == ["3"]
  record = json.load(open(os.path.join(workdir, "results.json")))
  assert record["status"] == "diverged" and "step" in record["error"]


def test_resuming_a_workdir_of_another_config_is_refused(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  loop.train_and_evaluate(tiny_config, workdir)
  tiny_config.optim.lr = 0.5
  with pytest.raises(ConfigError, match=r"another config \(optim.lr: 0.01 -> 0.5\)"):
    loop.train_and_evaluate(tiny_config, workdir)
  assert loop.train_and_evaluate(tiny_config, workdir, allow_config_change=True)


def test_same_seed_and_config_give_identical_results(tiny_config, tmp_path):
  a = loop.train_and_evaluate(tiny_config, str(tmp_path / "a"))
  b = loop.train_and_evaluate(tiny_config, str(tmp_path / "b"))
  for r in (a, b):
    r.pop("wall_seconds")
  assert a == b


def test_validators_score_each_evaluation_and_pick_checkpoints(tiny_config, tmp_path):
  from tljax.analysis import validators  # pylint: disable=g-import-not-at-top

  tiny_config.data.source_val_size = 100
  tiny_config.data.target_val_size = 40
  tiny_config.train.eval_every = 2
  tiny_config.train.reverse_validation_steps = 4  # Scored on the final checkpoint only.
  workdir = str(tmp_path / "run")
  loop.train_and_evaluate(tiny_config, workdir)
  # Lose the last checkpoint: the rerun repeats steps 4..6, but the history
  # keeps every evaluation once, from before and after the resume.
  shutil.rmtree(os.path.join(workdir, "checkpoints", "6"))
  results = loop.train_and_evaluate(tiny_config, workdir)
  assert results["resumed_from_step"] == 3
  history = results["eval_history"]
  assert [h["step"] for h in history] == [2, 4, 6]
  every = set(validators.HIGHER_IS_BETTER)
  for entry in history[:-1]:
    assert set(entry["validators"]) == every - {"reverse_dann"}
  assert set(history[-1]["validators"]) == every
  assert 0.0 <= results["validators"]["reverse_dann"] <= 1.0
  picks = results["selected_by_validator"]
  assert picks["reverse_dann"]["step"] == 6
  assert set(picks) == set(validators.HIGHER_IS_BETTER) | {"oracle_val", "oracle_test"}
  by_step = {h["step"]: h["target_test_accuracy"] for h in history}
  for pick in picks.values():
    assert pick["target_test_accuracy"] == by_step[pick["step"]]
  assert picks["oracle_test"]["target_test_accuracy"] == max(by_step.values())
  val = {h["step"]: h["target_val_accuracy"] for h in history}
  assert val[picks["oracle_val"]["step"]] == max(val.values())  # Chosen on val, not test.
  assert results["target_val_accuracy"] == results["final"]["target_val"]["accuracy"]
  assert results["final"]["target_val"]["num_examples"] == 40


def test_target_val_stays_unlabelled_in_training_and_leaves_the_labelled_target(tiny_config):
  """Its labels only choose settings: adaptation keeps its inputs, the oracle loses them."""
  full = splits.load_domains(tiny_config.data)
  tiny_config.data.target_val_size = 40
  split = splits.load_domains(tiny_config.data)
  rows = lambda a: {x.tobytes() for x in a["input"]}  # noqa: E731
  assert len(split.target_val["label"]) == 40
  assert rows(split.target_val) <= rows(split.target_train)
  assert np.array_equal(split.target_train["input"], full.target_train["input"])
  streams = (core.TARGET, core.TARGET_LABELLED)
  sets = splits.training_sets(tiny_config, split, streams)
  assert np.array_equal(sets[core.TARGET]["input"], full.target_train["input"])
  labelled = sets[core.TARGET_LABELLED]
  assert len(labelled["label"]) == len(full.target_train["label"]) - 40
  assert not rows(labelled) & rows(split.target_val)


def test_source_val_is_held_out_of_source_train(tiny_config):
  full = splits.load_domains(tiny_config.data)
  tiny_config.data.source_val_size = 100
  split = splits.load_domains(tiny_config.data)
  assert len(split.source_val["label"]) == 100
  assert len(split.source_train["label"]) == len(full.source_train["label"]) - 100
  rows = lambda a: {x.tobytes() for x in a["input"]}  # noqa: E731
  assert not rows(split.source_val) & rows(split.source_train)

"""Smoke tests of train_and_evaluate on the tiny config and embedded data."""

import json
import os
import shutil

import jax
import numpy as np
import pytest

from tljax import checkpoint
from tljax.errors import DataError
from tljax.train import loop


def _final_params(workdir, config):
  data = loop.load_domains(config.data)
  state, *_ = loop.build(config, data.source_train["image"].shape[1:], 10)
  manager = checkpoint.make_manager(workdir)
  restored, step = checkpoint.restore_latest(manager, state)
  manager.close()
  return restored.params, step


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
  params_full, _ = _final_params(full, tiny_config)
  params_cut, _ = _final_params(cut, tiny_config)
  jax.tree.map(np.testing.assert_array_equal, params_full, params_cut)


def test_baselines_run(tiny_config, tmp_path):
  for method in ("source_only", "target_only"):
    tiny_config.method.name = method
    results = loop.train_and_evaluate(tiny_config, str(tmp_path / method))
    assert results["method"] == method


def test_image_size_mismatch_is_a_clear_error(tiny_config, tmp_path):
  tiny_config.data.image_size = 32
  with pytest.raises(DataError, match="has 28x28 images but config.data.image_size=32"):
    loop.train_and_evaluate(tiny_config, str(tmp_path))

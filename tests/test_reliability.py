"""Faults a week-long run must survive or refuse clearly (issue 16); each failed on 661d0d5."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests import helpers
from tljax import checkpoint, files, metrics
from tljax.analysis import runs as runs_lib
from tljax.data import splits
from tljax.errors import ConfigError, DataError
from tljax.run import finished as finished_run
from tljax.run import loop, sweep
from tljax.run import workdir as workdir_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _steps(workdir) -> list[str]:
  return sorted(os.listdir(os.path.join(workdir, "checkpoints")))


# 1. A restore failure is damage only when the step's own files cannot be decoded.


def test_another_state_structure_is_a_config_error_and_moves_nothing(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  loop.train_and_evaluate(tiny_config, workdir)
  tiny_config.train.num_steps = 12
  tiny_config.optim.clip_norm = 1.0  # Adds an optimizer state: another tree.
  with pytest.raises(ConfigError, match="holds a train state of another structure"):
    loop.train_and_evaluate(tiny_config, workdir, allow_config_change=True)
  assert _steps(workdir) == ["3", "6"]
  assert not os.path.exists(os.path.join(workdir, "checkpoints_unreadable"))


def test_a_permission_error_is_not_damage(tiny_config, tmp_path, monkeypatch):
  workdir = str(tmp_path / "run")
  loop.train_and_evaluate(tiny_config, workdir)

  def denied(*args, **kwargs):
    raise PermissionError(13, "Permission denied", "checkpoints/6/default")

  monkeypatch.setattr(checkpoint.ocp.CheckpointManager, "restore", denied)
  with pytest.raises(DataError, match="step 6 .* cannot be read .*PermissionError"):
    loop.train_and_evaluate(tiny_config, workdir)
  assert _steps(workdir) == ["3", "6"]


def test_no_readable_step_refuses_to_restart_unless_asked(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  loop.train_and_evaluate(tiny_config, workdir)
  for root, _, names in os.walk(os.path.join(workdir, "checkpoints")):
    for name in names:
      with open(os.path.join(root, name), "wb") as f:
        f.write(b"garbage")
  with pytest.raises(DataError, match="no checkpoint .* could be read .*--allow_restart"):
    loop.train_and_evaluate(tiny_config, workdir)
  results = loop.train_and_evaluate(tiny_config, workdir, allow_restart=True)
  assert results["resumed_from_step"] == 0 and results["steps"] == tiny_config.train.num_steps
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints_unreadable"))) == ["3", "6"]


# 2. One writer per workdir.


def test_a_workdir_in_use_by_another_process_is_refused_by_name(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  holder = subprocess.Popen(
    [sys.executable, "-c", textwrap.dedent(f"""
      import sys, time
      from tljax.run import workdir
      with workdir.locked({workdir!r}):
        print("locked", flush=True)
        time.sleep(60)
    """)],
    cwd=ROOT, stdout=subprocess.PIPE, text=True,
  )  # fmt: skip
  try:
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(ConfigError, match=rf"is in use by pid {holder.pid} on "):
      loop.train_and_evaluate(tiny_config, workdir)
  finally:
    holder.kill()
    holder.wait()
  assert loop.train_and_evaluate(tiny_config, workdir)["steps"] == 6  # Released on exit.


# 3. A torn line in metrics.jsonl.


def test_a_torn_metrics_line_is_skipped_and_never_swallows_the_next_record(
  tiny_config, tmp_path, caplog
):
  workdir = tmp_path / "run"
  loop.train_and_evaluate(tiny_config, str(workdir))
  shutil.rmtree(workdir / "checkpoints" / "6")
  with open(workdir / "metrics.jsonl", "a") as f:
    f.write('{"step": 6, "train/lo')  # Power cut mid-write.
  with caplog.at_level("WARNING", logger="tljax"):
    results = loop.train_and_evaluate(tiny_config, str(workdir))
  assert results["resumed_from_step"] == 3
  assert "not a whole JSON record" in caplog.text
  records = metrics.read_records(str(workdir / "metrics.jsonl"))
  assert [r["step"] for r in records if "train/loss" in r][-2:] == [4, 6]  # After the torn line.
  assert [h["step"] for h in results["eval_history"]] == [3, 6]


# 4. Atomic side files; readers skip a bad one.


def test_replacing_keeps_the_old_file_when_the_writer_fails(tmp_path):
  path = tmp_path / "results.json"
  files.write_json(str(path), {"a": 1})
  with pytest.raises(RuntimeError):
    with files.replacing(str(path)) as tmp:
      with open(tmp, "w") as f:
        f.write('{"a": 2, "b"')
      raise RuntimeError("disk full")
  assert json.loads(path.read_text()) == {"a": 1}
  assert os.listdir(tmp_path) == ["results.json"]  # No temporary file left behind.
  with files.replacing(str(path)) as a, files.replacing(str(path)) as b:
    assert a != b  # Two writers never share a temporary name.


def test_a_damaged_results_file_is_named_and_skipped(tmp_path, caplog):
  for seed, text in enumerate(['{"status": "finished", "seed": 0', None]):
    run = tmp_path / f"seed{seed}"
    run.mkdir()
    good = helpers.results(seed=seed)
    (run / "results.json").write_text(text if text is not None else json.dumps(good))
  with caplog.at_level("WARNING", logger="tljax"):
    found = runs_lib.find([str(tmp_path)])
  assert [run.results["seed"] for run in found] == [1]
  assert "seed0/results.json" in caplog.text and not runs_lib.finished(str(tmp_path / "seed0"))


# 5. A failed first start does not claim the workdir.


def test_a_start_that_fails_to_load_data_leaves_no_config(tiny_config, tmp_path):
  workdir = tmp_path / "run"
  damaged = tmp_path / "mnist"
  damaged.mkdir()
  for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte"):  # fmt: skip
    (damaged / name).write_bytes(b"not an IDX file")
  bad = tiny_config.copy_and_resolve_references()
  bad.data.source, bad.data.manual_dir = "mnist", str(damaged)
  with pytest.raises(DataError, match="is not an IDX file"):
    loop.train_and_evaluate(bad, str(workdir))
  assert not (workdir / "config.json").exists()
  assert loop.train_and_evaluate(tiny_config, str(workdir))["steps"] == 6  # Not "another config".


# 6. Analyses never run on random weights.


def test_analysis_of_a_run_without_its_checkpoints_is_a_one_line_error(tiny_config, tmp_path):
  workdir = tmp_path / "run"
  loop.train_and_evaluate(tiny_config, str(workdir))
  results = finished_run.results(str(workdir))
  config, state, *_ = finished_run.load(str(workdir), results)
  assert int(state.step) == 6
  shutil.rmtree(workdir / "checkpoints" / "6")  # The final step named by results.json.
  with pytest.raises(DataError, match="has no checkpoint of step 6"):
    finished_run.load(str(workdir), results)
  assert _steps(workdir) == ["3"]  # Read-only: nothing moved or deleted.
  with pytest.raises(DataError, match="holds no finished tljax run"):
    finished_run.results(str(tmp_path / "nothing"))


# 8. Sweeps reuse a finished run only if it is the same point.


def test_sweep_refuses_a_finished_run_of_another_config(data_dir, tmp_path):
  base = ["--config=configs/digits.py:tiny", f"--config.data.data_dir={data_dir}",
          f"--workdir={tmp_path}", "--grid=method.name=source_only"]  # fmt: skip
  first = _cli("sweep", *base)
  assert first.returncode == 0, first.stderr[-2000:]
  second = _cli("sweep", *base, "--config.optim.lr=0.05")
  assert second.returncode == 2, second.stderr[-2000:]
  assert "holds a run of another config (optim.lr: 0.01 -> 0.05)" in _errors(second)[0]
  bad_grid = _cli("sweep", *base[:3], "--grid=method.name=..")
  assert bad_grid.returncode == 2 and "cannot name a run directory" in _errors(bad_grid)[0]
  # A value with slashes (a TFDS name) names one directory inside the workdir, never a path.
  assert sweep.directory_name("../../escape") == ".._.._escape"
  assert sweep.directory_name("sentiment/tweets") == "sentiment_tweets"


# 10. A resume remembers elapsed time, warnings and where the run ran.


def test_resume_keeps_elapsed_time_and_records_the_setup(tiny_config, tmp_path):
  workdir = tmp_path / "run"
  first = loop.train_and_evaluate(tiny_config, str(workdir))
  shutil.rmtree(workdir / "checkpoints" / "6")
  progress = json.loads((workdir / "progress.json").read_text())["by_step"]["3"]
  progress["warnings"] = ["domain classifier at chance ... up to step 2"]
  progress["elapsed_seconds"] = 1000.0
  workdir_lib.write_progress(str(workdir), 3, progress)
  again = loop.train_and_evaluate(tiny_config, str(workdir))
  assert again["resumed_from_step"] == 3 and again["wall_seconds"] > 1000.0
  assert "domain classifier at chance ... up to step 2" in again["warnings"]
  assert first["topology"]["process_count"] == 1 and first["versions"]["jax"]
  assert "git_commit" in first


def test_a_resume_on_another_process_count_is_refused(tiny_config, tmp_path):
  workdir = tmp_path / "run"
  loop.train_and_evaluate(tiny_config, str(workdir))
  shutil.rmtree(workdir / "checkpoints" / "6")
  progress = json.loads((workdir / "progress.json").read_text())["by_step"]["3"]
  progress["topology"]["process_count"] = 2
  progress["versions"]["flax"] = "0.0.1"
  workdir_lib.write_progress(str(workdir), 3, progress)
  with pytest.raises(ConfigError, match="another process_count 2 -> 1"):
    loop.train_and_evaluate(tiny_config, str(workdir))
  allowed = loop.train_and_evaluate(tiny_config, str(workdir), allow_config_change=True)
  assert any("flax 0.0.1 ->" in w for w in allowed["warnings"])


# 11. Labels outside the classes.


def test_a_target_label_outside_the_source_classes_is_a_data_error(tiny_config):
  data = splits.load_domains(tiny_config.data)
  assert splits.num_classes(data) == 10
  data.target_test["label"] = data.target_test["label"].copy()
  data.target_test["label"][5] = 12
  with pytest.raises(DataError, match="target_test has label 12, outside the source's 10"):
    splits.num_classes(data)


# 7, 9, 13, 15: through the real command line.


def _cli(module: str, *args) -> subprocess.CompletedProcess:
  cmd = [sys.executable, "-m", f"experiments.{module}", *args]
  return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def _errors(result) -> list[str]:
  return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_weights_that_fit_nothing_are_refused(data_dir, tmp_path):
  weights = tmp_path / "conv1_only.npz"
  np.savez(weights, **{"conv1.weight": np.zeros((64, 3, 7, 7), np.float32)})
  result = _cli(
    "dann",
    "--config=configs/digits.py:tiny",
    f"--config.data.data_dir={data_dir}",
    f"--workdir={tmp_path / 'run'}",
    f"--config.model.torch_weights={weights}",
  )
  assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
  assert "none of its arrays fits the tiny backbone (1 unused:" in _errors(result)[0]

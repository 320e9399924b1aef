"""experiments.finetune and experiments.extract_features end to end (tiny config), and the table."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from experiments import extract_features
from tljax.analysis import transfer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(module: str, *args) -> subprocess.CompletedProcess:
  cmd = [sys.executable, "-m", f"experiments.{module}", *args]
  proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return proc


@pytest.fixture(scope="module")
def finetuned(data_dir, tmp_path_factory):
  workdir = tmp_path_factory.mktemp("finetune")
  args = (
    "--config=configs/finetune_digits.py:tiny",
    f"--config.data.data_dir={data_dir}",
    "--config.finetune.modes=('target_only', 'finetune')",  # linear_probe: test_lp_ft_...
    f"--workdir={workdir}",
  )
  return str(workdir), _run("finetune", *args), args


def test_finetune_writes_results_plot_and_summary(finetuned):
  workdir, proc, args = finetuned
  results = json.load(open(os.path.join(workdir, "results.json")))
  assert set(results["accuracy"]) == {"target_only", "finetune"}
  for cells in results["accuracy"].values():
    assert set(cells) == {"1", "all"}
    assert all(0.0 <= c["mean"] <= 1.0 for c in cells.values())
  counts = {
    (r["labels_per_class"], r["mode"]): r["labelled_train_examples"] for r in results["runs"]
  }
  assert counts[(1, "finetune")] == 10 and counts[("all", "finetune")] > 1000
  assert len(results["verdicts"]) == 2  # 1 pretrained mode x 2 label budgets.
  assert os.path.getsize(os.path.join(workdir, "accuracy_vs_labels.png")) > 5000
  assert "| labels per class |" in open(os.path.join(workdir, "summary.md")).read()
  # Fine-tuned runs started from the pretrained run, target-only ones did not.
  run = json.load(open(os.path.join(workdir, "k=1", "finetune", "seed=0", "results.json")))
  assert run["init"]["loaded"] > 0 and run["init"]["init_checkpoint"].endswith("pretrain")
  scratch = json.load(open(os.path.join(workdir, "k=1", "target_only", "seed=0", "results.json")))
  assert scratch["init"] is None
  assert "initialised from" in proc.stderr
  # A rerun skips every finished run (and loads no data).
  again = _run("finetune", *args)
  assert "initialised from" not in again.stderr and "workdir:" not in again.stderr
  assert json.load(open(os.path.join(workdir, "results.json")))["accuracy"] == results["accuracy"]


def test_extract_features_and_linear_probe(finetuned):
  workdir, *_ = finetuned
  run = os.path.join(workdir, "pretrain")
  # In-process (the command line differs only by writing the two files).
  f = extract_features.extract(run, ["source_train", "target_test"], max_per_split=300)
  assert f["source_train_features"].shape == (300, 4)  # The tiny backbone's 4 features.
  assert f["target_test_labels"].shape == (300,) and f["target_test_logits"].shape == (300, 10)
  # The logits are the final model's, on the whole 300-image split: their argmax gives
  # exactly the accuracy the run reported (same weights, same images, same order).
  results = json.load(open(os.path.join(run, "results.json")))
  acc = np.mean(f["target_test_logits"].argmax(-1) == f["target_test_labels"])
  assert round(float(acc), 6) == results["target_test_accuracy"]
  probe = extract_features.linear_probe(f, "source_train")
  assert set(probe) == {"source_train", "target_test"}
  # Features and labels stay aligned: the same probe on shuffled labels learns less.
  labels = np.random.default_rng(0).permutation(f["source_train_labels"])
  shuffled = extract_features.linear_probe(dict(f, source_train_labels=labels), "source_train")
  assert probe["source_train"] > shuffled["source_train"] + 0.2


def test_finetune_table_flags_negative_transfer():
  runs = [
    {"mode": m, "labels_per_class": k, "seed": s, "target_test_accuracy": acc}
    for m, k, s, acc in [
      ("target_only", 10, 0, 0.70), ("target_only", 10, 1, 0.72),
      ("finetune", 10, 0, 0.80), ("finetune", 10, 1, 0.84),
      ("linear_probe", 10, 0, 0.60), ("linear_probe", 10, 1, 0.74),
    ]
  ]  # fmt: skip
  table = transfer.finetune_table(runs)
  np.testing.assert_allclose(table["accuracy"]["finetune"]["10"]["mean"], 0.82)
  np.testing.assert_allclose(
    table["accuracy"]["finetune"]["10"]["std"], np.std([0.8, 0.84], ddof=1)
  )
  [negative] = table["negative_transfer"]
  assert negative["mode"] == "linear_probe" and negative["worse_on_seeds"] == "1 of 2"
  np.testing.assert_allclose(negative["difference"], 0.67 - 0.71)
  assert sum(v.startswith("NEGATIVE TRANSFER: linear_probe") for v in table["verdicts"]) == 1


def test_lp_ft_starts_from_the_probe_and_bss_runs(finetuned, data_dir, tmp_path):
  from configs import finetune_digits  # pylint: disable=g-import-not-at-top
  from tests import helpers  # pylint: disable=g-import-not-at-top
  from tljax.run import (
    build,  # pylint: disable=g-import-not-at-top
    finetune,  # pylint: disable=g-import-not-at-top
  )

  workdir = tmp_path / "ft"
  _run(
    "finetune",
    "--config=configs/finetune_digits.py:tiny",
    f"--config.data.data_dir={data_dir}",
    "--config.finetune.modes=('lp_ft', 'bss')",
    "--config.finetune.labels_per_class=(1,)",
    f"--config.finetune.pretrained={finetuned[0]}/pretrain",  # Reuse, do not pretrain again.
    f"--workdir={workdir}",
  )
  results = json.load(open(workdir / "results.json"))
  assert set(results["accuracy"]) == {"linear_probe", "lp_ft", "bss"}  # The probe ran first.
  config = finetune_digits.get_config("tiny")
  config.data.data_dir = data_dir
  probe_dir = str(workdir / "k=1" / "linear_probe" / "seed=0")
  pretrain = f"{finetuned[0]}/pretrain"
  probe_config = finetune.run_config(config, "linear_probe", 1, 0, pretrain)
  probe_state, _ = helpers.final_state(probe_config, probe_dir)
  point = finetune.run_config(config, "lp_ft", 1, 0, pretrain, probe_dir)
  start = build.build(point, (28, 28, 3), 10).state.params["classifier"]
  np.testing.assert_array_equal(  # Phase two's head is the trained probe's, not pretraining's.
    start["head"]["Dense_2"]["kernel"],
    probe_state.params["classifier"]["head"]["Dense_2"]["kernel"],
  )
  pretrained = build.build(
    finetune.run_config(config, "finetune", 1, 0, pretrain), (28, 28, 3), 10
  ).state.params["classifier"]
  assert not np.array_equal(
    start["head"]["Dense_2"]["kernel"], pretrained["head"]["Dense_2"]["kernel"]
  )
  bss_run = json.load(open(workdir / "k=1" / "bss" / "seed=0" / "results.json"))
  assert bss_run["method"] == "bss" and bss_run["init"]["loaded"] > 0

import json

import pytest

from experiments import summarize


def _write(root, method, seed, acc, trade_off=1.0, status="finished", flat=False):
  path = root / method / f"trade_off={trade_off}" / f"seed{seed}"
  path.mkdir(parents=True)
  fields = {"trade_off": trade_off} if flat else {"dann": {"trade_off": trade_off}}
  result = {
    "status": status,
    "config": {"method": {"name": method, **fields}, "seed": seed},
    "source": "a",
    "target": "b",
    "method": method,
    "seed": seed,
    "steps": 10,
    "wall_seconds": 1.0,
    "source_test_accuracy": 0.9,
    "target_test_accuracy": acc,
  }
  (path / "results.json").write_text(json.dumps(result))


def test_table_has_mean_and_sample_std_per_method(tmp_path):
  _write(tmp_path, "dann", 0, 0.5)
  _write(tmp_path, "dann", 1, 0.7)
  _write(tmp_path, "source_only", 0, 0.4)
  rows = summarize.table(summarize.load_results([str(tmp_path)])).splitlines()
  assert rows[2].startswith(f"| {tmp_path} | a → b | source_only | 0.400 ± 0.000 |")
  assert rows[3].startswith(f"| {tmp_path} | a → b | dann | 0.600 ± 0.141 |")  # ddof=1


def test_unfinished_runs_are_left_out_and_reported_by_finished(tmp_path):
  _write(tmp_path, "dann", 0, 0.5)
  _write(tmp_path, "dann", 1, float("nan"), status="diverged")
  assert len(summarize.load_results([str(tmp_path)])) == 1
  assert summarize.finished(str(tmp_path / "dann" / "trade_off=1.0" / "seed0"))
  assert not summarize.finished(str(tmp_path / "dann" / "trade_off=1.0" / "seed1"))


@pytest.mark.parametrize("flat", [False, True])
def test_rows_per_setting_of_the_grouping_fields(tmp_path, flat):
  """`flat`: runs saved before methods had config sections (method.trade_off was DANN's)."""
  for seed, acc in enumerate([0.5, 0.7]):
    _write(tmp_path, "dann", seed, acc, trade_off=0.1, flat=flat)
    _write(tmp_path, "dann", seed, acc + 0.2, trade_off=1.0, flat=flat)
  rows = summarize.table(
    summarize.load_results([str(tmp_path)]), ["method.name", "method.dann.trade_off"]
  ).splitlines()
  assert rows[0].startswith("| runs | source → target | method.name | method.dann.trade_off |")
  assert rows[2].startswith(f"| {tmp_path} | a → b | dann | 0.1 | 0.600 ± 0.141 |")
  assert rows[3].startswith(f"| {tmp_path} | a → b | dann | 1.0 | 0.800 ± 0.141 |")


def test_validator_table_picks_per_seed_by_each_score(tmp_path):
  accs = {(0, 0.1): 0.6, (0, 1.0): 0.8, (1, 0.1): 0.7, (1, 1.0): 0.5}
  for (seed, trade_off), acc in accs.items():
    _write(tmp_path, "dann", seed, acc, trade_off=trade_off)
    path = tmp_path / "dann" / f"trade_off={trade_off}" / f"seed{seed}" / "results.json"
    result = json.loads(path.read_text())
    # iwcv (lower is better) prefers trade-off 1.0; info_max (higher) prefers 0.1.
    scores = {"source_risk": 0.1, "dev": 0.1, "entropy": 0.1, "reverse": 0.5}
    scores |= {"iwcv": 0.2 if trade_off == 1.0 else 0.3, "info_max": trade_off == 0.1}
    result["validators"] = scores
    path.write_text(json.dumps(result))
  rows = summarize.validator_table(
    summarize.load_results([str(tmp_path)]), ["method.dann.trade_off"]
  ).splitlines()
  by_name = {row.split(" | ")[0][2:]: row for row in rows[2:]}
  assert "seed 0: 1.0; seed 1: 1.0 | 0.650 ± 0.212" in by_name["iwcv"]
  assert "seed 0: 0.1; seed 1: 0.1 | 0.650 ± 0.071" in by_name["info_max"]
  assert "seed 0: 1.0; seed 1: 0.1 | 0.750 ± 0.071" in by_name["oracle"]


def test_validators_never_pick_a_run_that_trained_on_target_labels(tmp_path):
  """target_only reads target labels: no label-free pick may choose it, however it scores."""
  for method, acc, score in (("dann", 0.6, 0.1), ("target_only", 0.95, 0.9)):
    _write(tmp_path, method, 0, acc)
    path = tmp_path / method / "trade_off=1.0" / "seed0" / "results.json"
    result = json.loads(path.read_text())
    result["validators"] = {"info_max": score}
    path.write_text(json.dumps(result))
  rows = summarize.validator_table(summarize.load_results([str(tmp_path)]), ["method.name"])
  assert "| info_max | seed 0: dann | 0.600 ± " in rows
  assert "| oracle | seed 0: dann | 0.600 ± " in rows  # Among the label-free choices.

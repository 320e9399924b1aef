"""Tables of finished runs, and label-free selection done per (source, target, seed) with ties."""

import json

from tests import helpers
from tljax.analysis import runs as runs_lib
from tljax.analysis import tables


def _write(root, method, seed, acc, target="b", trade_off=1.0, flat=False, **fields):
  path = root / target / method / f"trade_off={trade_off}" / f"seed{seed}"
  path.mkdir(parents=True)
  section = {"trade_off": trade_off} if flat else {"dann": {"trade_off": trade_off}}
  result = helpers.results(method, seed, acc, target=target, **fields)
  result["config"] = {
    "method": {"name": method, **section},
    "seed": seed,
    "data": {"target": target},
  }
  (path / "results.json").write_text(json.dumps(result))


def _rows(root, group_by=("method.name",)):
  return tables.summary_table(runs_lib.find([str(root)]), list(group_by)).splitlines()


def test_table_has_mean_and_sample_std_per_method(tmp_path):
  _write(tmp_path, "dann", 0, 0.5)
  _write(tmp_path, "dann", 1, 0.7)
  _write(tmp_path, "source_only", 0, 0.4)
  rows = _rows(tmp_path)
  assert rows[2].startswith(f"| {tmp_path} | a → b | source_only | 0.400 ± 0.000 |")
  assert rows[3].startswith(f"| {tmp_path} | a → b | dann | 0.600 ± 0.141 |")  # ddof=1


def test_rows_per_setting_of_the_grouping_fields_old_and_new_configs(tmp_path):
  """`flat`: runs saved before methods had config sections (method.trade_off was DANN's)."""
  for flat, root in ((False, tmp_path / "new"), (True, tmp_path / "old")):
    for seed, acc in enumerate([0.5, 0.7]):
      _write(root, "dann", seed, acc, trade_off=0.1, flat=flat)
      _write(root, "dann", seed, acc + 0.2, trade_off=1.0, flat=flat)
    rows = _rows(root, ["method.name", "method.dann.trade_off"])  # Old: read as today's.
    assert rows[2].startswith(f"| {root} | a → b | dann | 0.1 | 0.600 ± 0.141 |")
    assert rows[3].startswith(f"| {root} | a → b | dann | 1.0 | 0.800 ± 0.141 |")


def _scored(root, method, seed, acc, target="b", val=None, **scores):
  base = {"source_risk": 0.1, "iwcv": 0.1, "dev": 0.1, "entropy": 0.1, "info_max": 0.1}
  fields = {"validators": {**base, "reverse": 0.5, **scores}}
  if val is not None:
    fields["target_val_accuracy"] = val
  _write(root, method, seed, acc, target=target, **fields)


def _picks(root):
  return {p.name: p for p in tables.validator_picks(runs_lib.find([str(root)]), ["method.name"])}


def test_validators_choose_within_each_target_never_across_targets(tmp_path):
  """Two targets, one seed: info_max must pick per target, not the best score over both."""
  _scored(tmp_path, "dann", 0, 0.60, target="b", info_max=0.9)
  _scored(tmp_path, "source_only", 0, 0.50, target="b", info_max=0.2)
  _scored(tmp_path, "dann", 0, 0.30, target="c", info_max=0.1)
  _scored(tmp_path, "source_only", 0, 0.40, target="c", info_max=0.3)
  info = _picks(tmp_path)["info_max"]
  assert info.picked == {("a", "b", 0): "dann", ("a", "c", 0): "source_only"}
  assert info.mean == (0.60 + 0.40) / 2  # One pick per task, averaged over the tasks.


def test_ties_are_counted_and_resolved_by_the_mean_accuracy_not_by_name(tmp_path):
  """Equal scores: the pick is the tie, worth the mean accuracy of the tied runs."""
  _scored(tmp_path, "dann", 0, 0.80, source_risk=0.2)
  _scored(tmp_path, "mcd", 0, 0.40, source_risk=0.2)
  _scored(tmp_path, "source_only", 0, 0.30, source_risk=0.5)
  risk = _picks(tmp_path)["source_risk"]
  assert risk.ties == 1 and risk.picked[("a", "b", 0)] == "tie: dann / mcd"
  assert abs(risk.mean - 0.60) < 1e-12
  table = tables.validator_table(runs_lib.find([str(tmp_path)]))
  assert "| source_risk | seed 0: tie: dann / mcd | 1 | 0.600 ± 0.000 |" in table


def test_no_run_that_read_target_labels_is_a_candidate_and_oracles_are_labelled(tmp_path):
  _scored(tmp_path, "dann", 0, 0.6, val=0.55, info_max=0.1)
  _scored(tmp_path, "cdan", 0, 0.7, val=0.50, info_max=0.0)
  _scored(tmp_path, "target_only", 0, 0.95, val=0.99, info_max=0.9)  # Reads target labels.
  picks = _picks(tmp_path)
  assert picks["info_max"].picked[("a", "b", 0)] == "dann"
  assert picks["oracle_val"].picked[("a", "b", 0)] == "dann"  # Best on target val, not test.
  assert picks["oracle_test"].picked[("a", "b", 0)] == "cdan"  # The ceiling among candidates.
  table = tables.validator_table(runs_lib.find([str(tmp_path)]))
  assert "oracle_val (target val labels: oracle selection)" in table
  assert "oracle_test (target test labels: the ceiling)" in table
  assert "target_only" not in table


def test_a_rule_some_candidate_lacks_is_left_out(tmp_path):
  _scored(tmp_path, "dann", 0, 0.6, val=0.5)
  _scored(tmp_path, "cdan", 0, 0.7)  # No target_val: oracle_val cannot choose here.
  assert "oracle_val" not in _picks(tmp_path) and "oracle_test" in _picks(tmp_path)


def test_a_task_where_only_some_methods_ran_is_left_out_and_named(tmp_path):
  """Seed 1 ran only the methods someone kept: a pick there would be that person's choice."""
  _scored(tmp_path, "dann", 0, 0.6, info_max=0.2)
  _scored(tmp_path, "mcd", 0, 0.7, info_max=0.9)
  _scored(tmp_path, "source_only", 0, 0.5, info_max=0.1)
  _scored(tmp_path, "dann", 1, 0.8, info_max=0.9)
  _scored(tmp_path, "source_only", 1, 0.4, info_max=0.1)
  assert _picks(tmp_path)["info_max"].picked == {("a", "b", 0): "mcd"}
  table = tables.validator_table(runs_lib.find([str(tmp_path)]))
  assert "Left out: seed 1, where only some of the settings ran" in table

"""Finished runs on disk: each counted once whatever links reach it; bad files named, skipped."""

import json
import os

from tests import helpers
from tljax.analysis import runs as runs_lib


def _run(path, **fields):
  path.mkdir(parents=True)
  (path / "results.json").write_text(json.dumps(helpers.results(**fields)))


def test_a_link_to_a_run_and_a_link_loop_count_it_once(tmp_path):
  _run(tmp_path / "dann" / "seed0")
  os.symlink(tmp_path / "dann" / "seed0", tmp_path / "latest")
  os.symlink(tmp_path, tmp_path / "dann" / "loop")  # A loop back to the root.
  found = runs_lib.find([str(tmp_path)])
  assert len(found) == 1


def test_runs_collected_by_links_elsewhere_are_found(tmp_path):
  _run(tmp_path / "elsewhere" / "run")
  (tmp_path / "collection").mkdir()
  os.symlink(tmp_path / "elsewhere" / "run", tmp_path / "collection" / "run")
  assert len(runs_lib.find([str(tmp_path / "collection")])) == 1


def test_crafted_results_files_are_named_and_skipped(tmp_path, caplog):
  bad = {
    "list": [1, 2],
    "missing": {k: v for k, v in helpers.results().items() if k != "seed"},
    "string_number": helpers.results(acc="0.9"),
    "bool_seed": helpers.results(seed=True),
  }
  for name, content in bad.items():
    (tmp_path / name).mkdir()
    (tmp_path / name / "results.json").write_text(json.dumps(content))
  _run(tmp_path / "good")
  with caplog.at_level("WARNING", logger="tljax"):
    found = runs_lib.find([str(tmp_path)])
  assert [os.path.basename(r.path) for r in found] == ["good"]
  for name in bad:
    assert f"{name}/results.json" in caplog.text
  assert "'target_test_accuracy' is '0.9'" in caplog.text


def test_whether_a_run_read_target_labels_is_stored_or_asked_of_its_method():
  assert runs_lib.Run("x", "r", helpers.results("target_only")).reads_target_labels
  assert not runs_lib.Run("x", "r", helpers.results("dann")).reads_target_labels
  stored = helpers.results("dann", reads_target_labels=True)  # The run said so: believed.
  assert runs_lib.Run("x", "r", stored).reads_target_labels
  assert runs_lib.Run("x", "r", helpers.results("no_such_method")).reads_target_labels


def test_a_sweep_summary_gives_runs_of_another_step_budget_their_own_row(tmp_path):
  """A run of another sweep under the same root (same grid point, other `train.num_steps`) is
  a setting of its own, not one more seed of the grid's."""
  from tljax.run import sweep  # pylint: disable=g-import-not-at-top

  point = tmp_path / "method.name=shot_im"
  for path, steps, acc in ((point, 6000, 0.92), (point / "train.num_steps=28000", 28000, 0.95)):
    os.makedirs(path, exist_ok=True)
    result = helpers.results("shot_im", 0, acc, steps=steps)
    result["config"]["train"] = {"num_steps": steps}
    with open(path / "results.json", "w") as f:
      json.dump(result, f)
  text = sweep.summarize(str(tmp_path), [("method.name", ["shot_im"])])
  table = text.split("\n\n")[0].splitlines()
  assert "train.num_steps" in table[0]
  rows = [line for line in table[2:] if "shot_im" in line]
  assert len(rows) == 2 and all("| 1 |" in row for row in rows), rows  # One seed each.

import json

from experiments import summarize


def _write(root, method, seed, acc):
  path = root / method / f"seed{seed}"
  path.mkdir(parents=True)
  result = {
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

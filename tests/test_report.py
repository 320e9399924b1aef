import json

from experiments import report
from tests import helpers
from tljax.analysis import transfer
from tljax.run import finished as finished_run


def test_transfer_summary_by_hand():
  s = transfer.transfer_summary({0: 0.5, 1: 0.6}, {0: 0.7, 1: 0.6}, {0: 0.95, 1: 0.95})
  assert abs(s["gain"] - 0.1) < 1e-12  # 0.65 - 0.55
  assert abs(s["gap_closed"] - 0.25) < 1e-12  # 0.1 / (0.95 - 0.55)
  assert s["paired_gains"] == {0: 0.7 - 0.5, 1: 0.0}
  assert not s["negative_transfer"] and s["verdict"].startswith("Adaptation helped: +10.0")


def test_a_constructed_negative_transfer_is_flagged(tmp_path):
  accs = {"source_only": [0.53, 0.51], "dann": [0.49, 0.45], "target_only": [0.97, 0.96]}
  for method, values in accs.items():
    for seed, acc in enumerate(values):
      run = tmp_path / method / str(seed)
      run.mkdir(parents=True)
      pad = {"features": 1.0 if method == "dann" else 1.5}
      result = helpers.results(method, seed, acc, proxy_a_distance=pad)
      (run / "results.json").write_text(json.dumps(result))
  report.main(["report", "--workdir", str(tmp_path), "--no_analysis"])
  text = (tmp_path / "report.md").read_text()
  assert "| dann | 0.470 | 2 | -5.0 points | -11% | 1.00 |" in text
  assert "NEGATIVE TRANSFER" in text and "by 5.0 points" in text
  assert "worse on 2 of 2 paired seeds" in text


def test_analysis_recomputes_a_missing_pad_identically_and_draws_pngs(tiny_config, tmp_path):
  from tljax.run import loop  # pylint: disable=g-import-not-at-top

  workdir = tmp_path / "source_only"
  tiny_config.method.name = "source_only"
  recorded = loop.train_and_evaluate(tiny_config, str(workdir))["proxy_a_distance"]
  path = workdir / "results.json"
  results = json.loads(path.read_text())
  del results["proxy_a_distance"]
  path.write_text(json.dumps(results))
  report.main(["report", "--workdir", str(tmp_path)])
  assert json.loads(path.read_text())["proxy_a_distance"] == recorded
  for png in ("health.png", "tsne.png"):
    assert (workdir / png).read_bytes().startswith(b"\x89PNG")
  assert "No source_only runs" not in (tmp_path / "report.md").read_text()
  from tests.test_tensorboard import _events  # pylint: disable=g-import-not-at-top

  tags = _events(workdir)  # The figures in TensorBoard too, at the final step.
  assert tags["report/health"] == [6] and tags["report/tsne"] == [6]


def test_an_older_runs_config_is_read_onto_todays_defaults():
  stored = {"seed": 3, "data": {"source": "mnist"}, "model": {"head_hidden": [50, 50]}}
  config = finished_run.stored_config(stored)
  assert config.seed == 3 and config.data.source == "mnist"
  assert config.model.head_hidden == (50, 50)  # JSON lists back to tuples.
  assert config.data.source_val_size == 0  # A field the old run did not have.

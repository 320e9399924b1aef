"""Reliability, round three (issue 28): each case failed (a traceback, data lost or silently
wrong) at e6fd0f9; docs/reliability.md has the table of every case and its outcome."""

import json
import os
import signal
import subprocess
import sys
import zlib

import numpy as np
from PIL import Image
import pytest

from configs import digits
from tests import helpers
from tljax import checkpoint, files
from tljax.core import step as step_lib
from tljax.data import folders, pipeline, splits
from tljax.errors import ConfigError, DataError
from tljax.models import torch_import
from tljax.run import evaluation, loop, sweep, validate
from tljax.run import workdir as workdir_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_a_lock_that_is_a_link_is_refused_and_its_target_untouched(tmp_path):
  victim = tmp_path / "victim"
  victim.write_text("precious")
  run = tmp_path / "run"
  run.mkdir()
  os.symlink(victim, run / ".lock")
  with pytest.raises(ConfigError, match="is a symbolic link; tljax never follows one"):
    with workdir_lib.locked(str(run)):
      pass
  assert victim.read_text() == "precious"
  with pytest.raises(ConfigError, match="is not a directory"):
    with workdir_lib.locked(str(victim)):
      pass


def test_results_are_readable_by_others_as_the_umask_allows(tmp_path):
  old = os.umask(0o022)
  try:
    files.write_json(str(tmp_path / "results.json"), {"a": 1})
  finally:
    os.umask(old)
  assert os.stat(tmp_path / "results.json").st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
  "field,value,message",
  [
    ("seed", -1, r"config.seed=-1 must be an integer in \[0, 2\*\*32\)"),
    ("seed", 2**32, r"config.seed=4294967296 must be an integer in \[0, 2\*\*32\)"),
    ("data.test_fraction", 1.0, r"config.data.test_fraction=1.0 must be in \(0, 1\)"),
    ("data.test_fraction", -0.2, r"config.data.test_fraction=-0.2 must be in \(0, 1\)"),
    ("data.random_shift", 300, "random_shift=300 must be < half of data.image_size=28"),
    ("data.image_size", 2048, r"image_size=2048: .* GiB to train, more than this machine's"),
  ],
)
def test_values_that_cannot_work_are_refused_before_anything_runs(field, value, message):
  config = digits.get_config()
  *section, key = field.split(".")
  (config[section[0]] if section else config)[key] = value
  with pytest.raises(ConfigError, match=message):
    validate.validate_config(config)


def test_json_files_keep_each_list_of_plain_values_on_one_line(tmp_path):
  obj = {
    "series": [0.5, 1, None],
    "nested": [[1, 2], [3]],
    "text": "a [1,\n 2] b",
    "rows": [{"x": []}],
  }
  files.write_json(str(tmp_path / "r.json"), obj)
  text = (tmp_path / "r.json").read_text()
  assert json.loads(text) == obj
  assert '"series": [0.5, 1, null]' in text and "[1, 2]" in text
  assert '"nested": [\n' in text  # A list of lists keeps one line per inner list.


def test_the_default_workdir_is_one_safe_name_per_part():
  config = digits.get_config()
  config.data.source, config.data.target = "folder:../../x", "sentiment/tweets"
  path = workdir_lib.default_workdir(config)
  assert path == os.path.join("runs", "folder:.._.._x_to_sentiment_tweets", "dann", "seed0")
  assert os.path.normpath(path).split(os.sep)[:2] == ["runs", "folder:.._.._x_to_sentiment_tweets"]


def test_grid_errors_are_one_line():
  config = digits.get_config()
  with pytest.raises(ConfigError, match="give at least one --grid"):
    sweep.parse_grid([], config)
  with pytest.raises(ConfigError, match=r"every value must be a int, as config.seed is"):
    sweep.parse_grid(["seed=1.5"], config)


def test_a_refused_change_of_config_changes_nothing_on_disk(tiny_config, tmp_path):
  workdir = tmp_path / "run"
  loop.train_and_evaluate(tiny_config, str(workdir))
  before = {p: p.read_bytes() for p in workdir.rglob("*") if p.is_file() and p.name != ".lock"}
  other = tiny_config.copy_and_resolve_references()
  other.method.name = "source_only"  # Another train state: no discriminator.
  other.train.num_steps = 12
  with pytest.raises(ConfigError, match="holds a train state of another structure"):
    loop.train_and_evaluate(other, str(workdir), allow_config_change=True)
  after = {p: p.read_bytes() for p in workdir.rglob("*") if p.is_file() and p.name != ".lock"}
  assert after == before
  again = loop.train_and_evaluate(tiny_config, str(workdir))  # Its own command still works.
  assert again["resumed_from_step"] == tiny_config.train.num_steps


def test_the_divergence_advice_works(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  tiny_config.optim.lr = 1e9
  tiny_config.train.num_steps, tiny_config.train.ckpt_every = 12, 2
  with pytest.raises(FloatingPointError, match="rerun with --allow_config_change") as e:
    loop.train_and_evaluate(tiny_config, workdir)
  assert "--config.optim.lr=1e+08" in str(e.value)
  tiny_config.optim.lr = 1e-3
  with pytest.raises(ConfigError, match="another config"):
    loop.train_and_evaluate(tiny_config, workdir)  # Without the flag: refused, as it says.
  results = loop.train_and_evaluate(tiny_config, workdir, allow_config_change=True)
  assert results["status"] == "finished" and results["resumed_from_step"] >= 0


def test_a_class_without_test_images_has_no_recall():
  summary = step_lib.confusion_summary(np.array([[3, 1, 0], [0, 0, 0], [1, 0, 5]]))
  assert summary["per_class_recall"] == [0.75, None, 0.8333]
  assert summary["mean_class_recall"] == pytest.approx((0.75 + 5 / 6) / 2, abs=1e-6)


def _png(path, size=(8, 8)):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(np.zeros((*size, 3), np.uint8)).save(path)


def _bomb(path):
  """A PNG whose header claims 20000 x 20000 pixels (PIL refuses to decode such a file)."""

  def chunk(kind, data):
    body = kind + data
    return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

  header = (20000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
  data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0"))
  with open(path, "wb") as f:
    f.write(data + chunk(b"IEND", b""))


def test_odd_files_in_a_folder_are_named_skipped_and_counted(tmp_path, caplog):
  root = tmp_path / "pool"
  for c in ("a", "b"):
    for i in range(3):
      _png(str(root / c / f"{i}.png"))
  _png(str(root / "a" / "tiny.png"), size=(1, 1))  # Kept: resized like any other.
  _bomb(str(root / "a" / "bomb.png"))
  (root / "b" / "notes.jpg").write_text("not an image")
  os.symlink(root / "b" / "loop.jpg", root / "b" / "loop.jpg")
  latin1 = os.path.join(os.fsencode(root / "b"), b"caf\xe9.png")  # Not UTF-8: read all the same.
  with open(latin1, "wb") as f:
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(f, format="PNG")
  with caplog.at_level("WARNING", logger="tljax"):
    listing = folders.list_split(str(root), "all")
  assert len(listing.paths) == 8
  assert "bomb.png" in caplog.text and "notes.jpg" in caplog.text and "loop.jpg" in caplog.text
  assert "skipped 3 of 11 files" in caplog.text
  images = np.asarray(pipeline.images.FileImages(listing.paths, 28, 3))  # All decode, 1x1 too.
  assert images.shape == (8, 28, 28, 3)


def test_a_folder_whose_classes_hold_one_image_each_is_explained(tmp_path):
  for c in range(12):
    _png(str(tmp_path / "pool" / f"class{c:03d}" / "only.png"))
  with pytest.raises(DataError, match="leaves no test image .*classes of 1 images at most"):
    folders.list_split(str(tmp_path / "pool"), "train")


@pytest.mark.parametrize("content", ["truncated", "garbage"])
def test_a_damaged_sentiment_archive_is_one_line(content, tmp_path):
  from tests.test_text import write_archive  # pylint: disable=g-import-not-at-top

  manual = tmp_path / "manual"
  manual.mkdir()
  write_archive(manual)
  archive = manual / "hutto_ICWSM_2014.tar.gz"
  data = archive.read_bytes()
  archive.write_bytes(data[: len(data) // 2] if content == "truncated" else os.urandom(500))
  with pytest.raises(DataError, match="cannot be read as the sentiment archive"):
    pipeline.load_split("sentiment/tweets", "train", data_dir=str(tmp_path), manual_dir=str(manual))


def test_a_damaged_init_checkpoint_is_one_line(tiny_config, tmp_path):
  run = tmp_path / "pretrained"
  helpers.save_source_only(tiny_config, (28, 28, 3), 10, run)
  for path in run.rglob("*"):
    if path.is_file() and path.stat().st_size > 100 and "ocdbt" not in path.name:
      path.write_bytes(b"\0" * path.stat().st_size)  # Zeroed array data.
  checkpoint._read_classifier.cache_clear()  # pylint: disable=protected-access
  with pytest.raises(DataError, match="cannot be read .*give a finished run whose checkpoints"):
    checkpoint.read_pretrained(str(run))


def test_a_checkpoint_that_claims_more_memory_than_the_machine_has_is_refused():
  class Leaf:
    shape, dtype = (200_000, 200_000), np.float32  # 149 GiB.

  with pytest.raises(DataError, match=r"claims arrays of 149.0 GiB"):
    checkpoint._check_claimed_size({"params": {"w": Leaf()}}, "crafted")  # pylint: disable=protected-access


@pytest.mark.parametrize(
  "name,value,message",
  [
    ("bn1.gamma", np.ones(4), "a BatchNorm has"),
    ("layer1", np.ones(4), "is not part of a torchvision ResNet"),
    ("conv1.bias", np.ones(4), "has only a weight"),
    ("conv1.weight", np.array(["a", "b"]), "holds <U1 values, not numbers"),
  ],
)
def test_weight_files_with_unknown_names_or_strings_are_one_line(name, value, message):
  with pytest.raises(ConfigError, match=message):
    torch_import.from_torch({name: value})


def test_a_teacher_of_another_network_is_run_through_its_own(tiny_config, tmp_path):
  from tljax import methods  # pylint: disable=g-import-not-at-top

  teacher = tmp_path / "teacher"
  other = tiny_config.copy_and_resolve_references()
  other.model.name = "digits_net"  # Another architecture than the tiny student's.
  helpers.save_source_only(other, (28, 28, 3), 10, teacher)
  files.write_json(str(teacher / "config.json"), other.to_dict())
  tiny_config.method.name = "distill"
  tiny_config.method.distill.teacher = str(teacher)
  method = methods.create(tiny_config, 10, (28, 28, 3))
  assert method.teacher_classifier.backbone.__class__.__name__ == "DigitsConvNet"
  tiny_config.train.num_steps = 2
  results = loop.train_and_evaluate(tiny_config, str(tmp_path / "student"))
  assert results["status"] == "finished"
  small = tmp_path / "small_teacher"  # Trained on 16-px images: its weights fit no 28-px input.
  helpers.save_source_only(other, (16, 16, 3), 10, small)
  files.write_json(str(small / "config.json"), other.to_dict())
  tiny_config.method.distill.teacher = str(small)
  with pytest.raises(ConfigError, match=r"do not fit its network on this run's inputs"):
    loop.train_and_evaluate(tiny_config, str(tmp_path / "student2"))


def test_prepare_reads_images_streamed_from_files(digit_folders, data_dir, tmp_path):
  config = digits.get_config("tiny")
  config.data.update(data_dir=data_dir, load="stream")
  config.data.source = f"folder:{digit_folders['digits']}"
  config.data.target = f"folder:{digit_folders['digits_m']}"
  config.method.name = "kmm"
  config.method.kmm.iterations = 20
  config.model.init_checkpoint = helpers.save_source_only(config, (28, 28, 3), 10, tmp_path / "p")
  config.method.kmm.space = "features"
  data = splits.load_domains(config.data)
  assert type(data.source_train["input"]).__name__ == "FileImages"
  config.train.num_steps = 2
  results = loop.train_and_evaluate(config, str(tmp_path / "run"), data=data)
  assert results["status"] == "finished"


def test_ctrl_c_during_the_final_evaluation_stops_cleanly_and_a_rerun_evaluates(
  tiny_config, tmp_path, monkeypatch
):
  workdir = str(tmp_path / "run")
  real = evaluation.domain_discrepancy

  def interrupted(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)  # As if Ctrl-C came while the PAD was computed.
    return real(*args, **kwargs)

  monkeypatch.setattr(evaluation, "domain_discrepancy", interrupted)
  with pytest.raises(loop.Preempted, match="during the final evaluation"):
    loop.train_and_evaluate(tiny_config, workdir)
  assert not os.path.exists(os.path.join(workdir, "results.json"))
  monkeypatch.setattr(evaluation, "domain_discrepancy", real)
  results = loop.train_and_evaluate(tiny_config, workdir)
  assert results["resumed_from_step"] == tiny_config.train.num_steps  # Evaluated, not retrained.


def test_a_report_of_read_only_runs_is_printed(tiny_config, tmp_path, monkeypatch, capsys):
  from experiments import report  # pylint: disable=g-import-not-at-top

  loop.train_and_evaluate(tiny_config, str(tmp_path / "run"))

  def read_only(*args, **kwargs):
    raise PermissionError(13, "Permission denied")

  monkeypatch.setattr(files, "write_text", read_only)
  monkeypatch.setattr(workdir_lib, "locked", lambda w: (_ for _ in ()).throw(ConfigError("ro")))
  report.main(["report", "--workdir", str(tmp_path)])
  out, err = capsys.readouterr()
  assert "## digits → digits_m" in out and "report.md not written (Permission denied)" in err


def _cli(module, *args):
  cmd = [sys.executable, "-m", f"experiments.{module}", *args]
  return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_a_sweep_records_a_diverged_point_and_goes_on(data_dir, tmp_path):
  result = _cli(
    "sweep", "--config=configs/digits.py:tiny", f"--config.data.data_dir={data_dir}",
    f"--workdir={tmp_path}", "--grid=optim.lr=1e9,0.01", "--noxla_cpu_fast",
  )  # fmt: skip
  assert result.returncode == 1, result.stderr[-2000:]
  assert "1 of 2 runs diverged" in result.stderr.splitlines()[-1]
  summary = (tmp_path / "summary.md").read_text()
  assert "Diverged" in summary and "optim.lr=1000000000.0" in summary
  assert "| 0.01 |" in summary  # The other point ran and is tabulated.


def test_finetuning_from_a_diverged_pretraining_is_one_line(data_dir, tmp_path):
  pre = tmp_path / "pre"
  pre.mkdir()
  (pre / "results.json").write_text(json.dumps({"status": "diverged", "error": "nan"}))
  result = _cli(
    "finetune", "--config=configs/finetune_digits.py:tiny", f"--config.data.data_dir={data_dir}",
    f"--config.finetune.pretrained={pre}", f"--workdir={tmp_path / 'ft'}", "--noxla_cpu_fast",
  )  # fmt: skip
  assert result.returncode == 2
  assert result.stderr.strip().splitlines()[-1].startswith("error: ")
  assert "status 'diverged'" in result.stderr


def test_evaluation_never_decodes_a_streamed_split_whole(digit_folders, data_dir, tmp_path):
  """Issue 28, item 2: accuracies, PAD and validators read streamed images batch by batch."""
  config = digits.get_config("tiny")
  config.data.update(data_dir=data_dir, load="stream", eval_batch_size=40, source_val_size=50)
  config.data.source = f"folder:{digit_folders['digits']}"
  config.data.target = f"folder:{digit_folders['digits_m']}"
  data = splits.load_domains(config.data)
  sizes = []
  real = pipeline.images.FileImages.read

  def counted(self, rng=None):
    sizes.append(len(self))
    return real(self, rng)

  pipeline.images.FileImages.read = counted
  try:
    config.train.num_steps = config.train.eval_every = 2
    config.train.log_every = config.train.ckpt_every = 2
    results = loop.train_and_evaluate(config, str(tmp_path / "run"), data=data)
  finally:
    pipeline.images.FileImages.read = real
  assert results["final"]["target_test"]["num_examples"] == len(data.target_test["label"])
  assert results["proxy_a_distance"]["pixels"] >= 0 and results["validators"]
  assert sizes and max(sizes) <= 40, max(sizes)  # Never more than one batch at a time.


def test_a_small_folder_pair_finishes_without_a_proxy_a_distance(tmp_path):
  """Found by tools/adversarial.py: 2 test images per domain crashed the final evaluation."""
  for domain in ("source", "target"):
    for c in ("a", "b"):
      for i in range(6):
        _png(str(tmp_path / domain / c / f"{i}.png"))
  config = digits.get_config("tiny")
  config.data.image_size = 16
  config.data.source = f"folder:{tmp_path / 'source'}"
  config.data.target = f"folder:{tmp_path / 'target'}"
  results = loop.train_and_evaluate(config, str(tmp_path / "run"))
  assert results["proxy_a_distance"]["features"] is None
  assert "needs 4 test examples per domain, has 2" in results["proxy_a_distance"]["not_computed"]

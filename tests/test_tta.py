"""Test-time adaptation: Tent, AdaBN, EATA, the online stream, the corruptions, bad input."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from configs import digits
from tljax import methods
from tljax.core import state as state_lib
from tljax.data import corruptions
from tljax.errors import ConfigError
from tljax.methods import eata
from tljax.run import build, tta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def source_run(data_dir, tmp_path_factory):
  """A finished tiny source_only run with BatchNorm on the embedded digits."""
  workdir = tmp_path_factory.mktemp("source") / "run"
  cmd = [sys.executable, "-m", "experiments.dann", "--config=configs/digits.py:tiny",
         "--config.method.name=source_only", "--config.model.norm=batch",
         "--config.train.num_steps=20", f"--config.data.data_dir={data_dir}",
         f"--workdir={workdir}"]  # fmt: skip
  done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert done.returncode == 0, done.stderr[-2000:]
  return str(workdir)


def _built(name: str, source_run: str, data_dir: str):
  config = digits.get_config("tiny")
  config.data.data_dir = data_dir
  config.method.name, config.model.norm = name, "batch"
  config.model.init_checkpoint = source_run
  config.data.random_shift = 0  # Test-time views are the images as they are (as tta sets).
  return build.build(config, (28, 28, 3), 10)


def _batch(n: int = 16):
  images = np.random.default_rng(0).integers(0, 256, (n, 28, 28, 3), dtype=np.uint8)
  return {"target": {"input": images}}


def test_tent_updates_only_batch_norm_scale_and_shift(source_run, data_dir):
  built = _built("tent", source_run, data_dir)
  before = jax.tree.map(np.array, built.state.params)
  state, metrics = built.train_step(built.state, _batch(), jax.random.key(0))
  after = jax.tree.map(np.array, state.params)
  changed = {}
  for (path, a), (_, b) in zip(
    jax.tree_util.tree_leaves_with_path(before), jax.tree_util.tree_leaves_with_path(after)
  ):
    changed[state_lib.param_name(path)] = not np.array_equal(a, b)
  bn = {n for n in changed if "BatchNorm" in n and n.endswith(("scale", "bias"))}
  assert bn and all(changed[n] for n in bn)  # Every BatchNorm scale and shift moved...
  assert not any(changed[n] for n in changed if n not in bn)  # ...and nothing else, bit for bit.
  assert metrics["predictions"].shape == (16,)


def test_adabn_predicts_with_the_batch_moments_and_changes_no_parameter(source_run, data_dir):
  built = _built("adabn", source_run, data_dir)
  variables = {"params": built.state.params["classifier"],
               "batch_stats": built.state.batch_stats["classifier"]}  # fmt: skip
  x = _batch()["target"]["input"]
  (logits, _), updates = built.classifier.apply(
    variables, x.astype(np.float32), train=True, mutable=["batch_stats"]
  )  # BatchNorm in training mode normalises by this batch's mean and variance.
  before = jax.tree.map(np.array, built.state.params)
  state, metrics = built.train_step(built.state, _batch(), jax.random.key(0))
  np.testing.assert_array_equal(metrics["predictions"], np.argmax(logits, -1))
  for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(state.params)):
    np.testing.assert_array_equal(a, b)
  for a, b in zip(
    jax.tree.leaves(updates["batch_stats"]), jax.tree.leaves(state.batch_stats["classifier"])
  ):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max())  # Moved to the batch.


def test_eata_keeps_only_confident_non_redundant_examples():
  probs = np.array([[0.97, 0.01, 0.01, 0.01], [0.25, 0.25, 0.25, 0.25], [0.01, 0.97, 0.01, 0.01]])
  mean = np.array([1.0, 0.0, 0.0, 0.0])
  h = -(probs * np.log(probs + 1e-5)).sum(1)
  bound = 0.4 * np.log(4)
  w = np.asarray(eata.selection_weights(probs, mean, 0.4, 1.0))
  np.testing.assert_allclose(w, np.where(h < bound, np.exp(bound - h), 0.0), rtol=1e-5)
  assert w[0] > 0 and w[1] == 0  # Confident kept, uniform dropped.
  w = np.asarray(eata.selection_weights(probs, mean, 0.4, 0.5))
  assert w[0] == 0 and w[2] > 0  # The first is redundant with the running mean (cosine ~1).


def test_online_accuracy_counts_each_example_once(source_run, data_dir):
  plan = tta.Plan(source_run, ("digits_m",), method="source", batch_size=64)
  results = tta.run(plan, data_dir=data_dir)
  batches = results["batches"]
  assert batches["size"] == [64] * 4 + [300 - 256]  # 300 test images: the last batch smaller.
  correct = sum(round(a * n) for a, n in zip(batches["accuracy"], batches["size"]))
  assert correct / 300 == pytest.approx(results["accuracy"][0]["accuracy"], abs=1e-6)
  # Without adaptation the online accuracy is the source run's own evaluation of that set.
  finished = json.loads(open(os.path.join(source_run, "results.json")).read())
  assert results["accuracy"][0]["accuracy"] == pytest.approx(finished["target_test_accuracy"])


def test_episodic_resets_after_every_batch(source_run, data_dir):
  run = lambda method, mode, lr: tta.run(
    tta.Plan(source_run, ("digits_m",), method, mode, lr=lr), data_dir
  )  # noqa: E731
  episodic, continual = run("tent", "episodic", 1.0), run("tent", "continual", 1.0)
  # Reset before every batch, each batch is predicted from the source weights with its own
  # BatchNorm statistics: AdaBN's predictions, batch for batch, whatever the learning rate.
  assert episodic["batches"]["accuracy"] == run("adabn", "episodic", 1.0)["batches"]["accuracy"]
  # The first batch sees the source weights either way; later ones differ once Tent has moved.
  assert episodic["batches"]["accuracy"][0] == continual["batches"]["accuracy"][0]
  assert episodic["batches"]["accuracy"] != continual["batches"]["accuracy"]


def test_corruptions_are_deterministic_and_in_range():
  images = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 3), dtype=np.uint8)
  for name in corruptions.SEVERITIES:
    a = corruptions.corrupt(images, name, 3, seed=0)
    b = corruptions.corrupt(images, name, 3, seed=0)
    assert a.dtype == np.uint8 and a.shape == images.shape
    np.testing.assert_array_equal(a, b, err_msg=name)
  noisy = [np.abs(corruptions.corrupt(images, "gaussian_noise", s).astype(int) - images).mean()
           for s in (1, 5)]  # fmt: skip
  assert noisy[1] > noisy[0]  # Severity 5 corrupts more than severity 1.
  assert not np.array_equal(corruptions.corrupt(images, "impulse_noise", 3, seed=1),
                            corruptions.corrupt(images, "impulse_noise", 3, seed=0))  # fmt: skip
  with pytest.raises(ConfigError, match="corruption 'haze' does not exist"):
    corruptions.corrupt(images, "haze", 1)
  with pytest.raises(ConfigError, match="severity 6 does not exist"):
    corruptions.corrupt(images, "fog", 6)


@pytest.mark.parametrize(
  "args,message",
  [
    (["--method=source_only"], "is not a test-time method"),
    (["--targets=mnist_m_corruptions/haze_3"], "MNIST-M-C has no corruption 'haze'"),
    (["--targets=mnist_m_corruptions/fog_9"], "severity 9 does not exist"),
    (["--mode=sometimes"], "--mode='sometimes' must be one of"),
    (["--source_run=/nonexistent"], "holds no finished tljax run"),
  ],
)
def test_bad_test_time_input_is_one_line_and_writes_nothing(args, message, source_run, tmp_path):
  workdir = tmp_path / "out"
  cmd = [sys.executable, "-m", "experiments.tta", f"--source_run={source_run}",
         "--targets=digits_m", f"--workdir={workdir}", *args]  # fmt: skip
  done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert done.returncode == 2, done.stderr[-2000:]
  lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
  assert len(lines) == 1 and message in lines[0], done.stderr[-2000:]
  assert not workdir.exists()


def test_a_network_without_batch_norm_is_refused(source_run):
  config = digits.get_config("tiny")
  config.method.name, config.model.init_checkpoint = "tent", source_run
  with pytest.raises(ConfigError, match="adapts BatchNorm, and config.model.norm='none'"):
    methods.create(config, 10)

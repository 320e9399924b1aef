"""The benchmarks write what the README says they measure, with consistent units."""

import json
import os
import sys

import jax
import jax.numpy as jnp
import pytest

from benchmarks import bench, bench_conv, bench_peers, timing
from tljax.models.backbones import DigitsConvNet


def test_step_statistics_of_known_timings():
  stats = timing.summary([0.4, 0.1, 0.3, 0.2, 1.0])  # One slow step (a page fault, a GC).
  assert stats["median"] == 0.3 and stats["mean"] == 0.4 and stats["count"] == 5
  assert stats["p10"] == pytest.approx(0.14) and stats["p90"] == pytest.approx(0.76)
  assert (stats["min"], stats["max"]) == (0.1, 1.0)


def test_time_calls_times_each_call_after_warmup(monkeypatch):
  clock = iter([0.0, 0.5, 1.0, 3.0])  # perf_counter readings around the two timed calls.
  calls = []
  monkeypatch.setattr(timing.time, "perf_counter", lambda: next(clock))
  assert timing.time_calls(lambda: calls.append(1), warmup=2, steps=2) == [0.5, 2.0]
  assert len(calls) == 4


def test_bench_writes_throughput_compile_spread_and_host_share(tiny_config):
  result = bench.measure(tiny_config, steps=3, warmup=1, pipeline_batches=5)
  assert result["device_count"] >= 1 and result["device_kind"]
  assert result["examples_per_step"] == 16  # DANN reads 8 source + 8 target images.
  stats = result["step_seconds"]
  assert stats["count"] == 3 and stats["min"] <= stats["median"] <= stats["max"]
  assert result["seconds_per_step"] == stats["median"]
  assert result["compile_seconds"] > stats["min"]  # Tracing and compiling come on top.
  assert 0.0 <= result["host_fraction"] < 1.0 and result["loop_seconds_per_step"] > 0
  assert result["pipeline_examples_per_sec"] > 0


def test_step_flops_count_the_plain_networks_convolutions_forward_and_backward():
  from configs import digits  # pylint: disable=g-import-not-at-top

  config = digits.get_config("paper")
  config.data.batch_size, config.model.conv_impl = 2, "xla"
  flops = bench.CompiledStep(config).flops
  # DANN: 2 source + 2 target images through the backbone. Per image each convolution runs
  # forward and as a kernel gradient; the second also as an input gradient (the first's input
  # is the image).
  conv1, conv2 = bench_conv.CONV1_FLOPS, bench_conv.CONV2_FLOPS
  convolutions = 4 * (2 * conv1 + 3 * conv2)
  # On top: the dense layers (under 4% of it here), pooling, ReLU, losses and SGD.
  assert convolutions < flops < 1.1 * convolutions


def test_bench_conv_flop_counts_are_the_networks_multiply_adds():
  images = jnp.zeros((1, 28, 28, 3), jnp.uint8)
  params = DigitsConvNet().init(jax.random.key(0), images, True)["params"]
  outputs = {"Conv_0": 24 * 24, "Conv_1": 8 * 8}  # VALID 5x5: 28 -> 24, pooled 12 -> 8.
  flops = {name: 2 * outputs[name] * params[name]["kernel"].size for name in ("Conv_0", "Conv_1")}
  assert flops == {"Conv_0": bench_conv.CONV1_FLOPS, "Conv_1": bench_conv.CONV2_FLOPS}


def test_bench_conv_times_every_piece_for_both_impls(tmp_path):
  bench_conv.main(
    [
      "bench_conv",
      "--batch=2",
      "--steps=1",
      "--matmul=32",
      "--noxla_cpu_fast",
      f"--workdir={tmp_path}",
    ]
  )
  with open(tmp_path / "bench_conv.json") as f:
    result = json.load(f)
  assert result["matmul_gflops"] == pytest.approx(2 * 32**3 / result["matmul_ms"] / 1e6, abs=0.06)
  pieces = (
    "backbone_forward",
    "backbone_gradient",
    "conv1_pool_forward",
    "conv1_pool_kernel_grad",
    "conv2_forward",
    "conv2_kernel_grad",
    "conv2_input_grad",
  )
  for impl in ("xla", "fast"):
    for piece in pieces:
      assert result[f"{piece}_ms_{impl}"] > 0 and result[f"{piece}_gflops_{impl}"] > 0
  conv1, conv2 = 2 * bench_conv.CONV1_FLOPS, 2 * bench_conv.CONV2_FLOPS  # batch 2.
  assert result["backbone_gradient_gflops_fast"] == pytest.approx(
    (2 * conv1 + 3 * conv2) / result["backbone_gradient_ms_fast"] / 1e6, abs=0.06
  )


def _tljax_parameter_counts() -> dict:
  from configs import digits  # pylint: disable=g-import-not-at-top
  from tljax import models  # pylint: disable=g-import-not-at-top
  from tljax.losses import adversarial  # pylint: disable=g-import-not-at-top

  model = digits.get_config("paper").model
  classifier = models.build_classifier(model, 10)
  images = jnp.zeros((1, 28, 28, 3), jnp.uint8)
  params = classifier.init(jax.random.key(0), images, False)["params"]
  features = jnp.zeros((1, 768))
  hidden = digits.get_config("paper").method.dann.discriminator_hidden
  discriminator = adversarial.discriminator(hidden, model)
  domain = discriminator.init(jax.random.key(0), features, False)["params"]
  size = lambda tree: sum(x.size for x in jax.tree.leaves(tree))
  return {
    "backbone": size(params["backbone"]),
    "head": size(params["head"]),
    "domain": size(domain),
  }


def test_peer_keras_network_is_the_paper_network():
  backbone, head, domain = bench_peers._keras_models()
  keras = {"backbone": backbone, "head": head, "domain": domain}
  assert {k: m.count_params() for k, m in keras.items()} == _tljax_parameter_counts()


def test_peer_tensorflow_step_is_timed(tmp_path):
  bench_peers.main(
    ["bench_peers", "--framework=tensorflow", "--batch=4", "--steps=2", "--warmup=1",
     f"--workdir={tmp_path}"]
  )  # fmt: skip
  with open(tmp_path / "peer_bench.json") as f:
    result = json.load(f)
  assert result["framework"] == "tensorflow" and result["steps"] == 2
  assert result["examples_per_sec"] == pytest.approx(8 / result["seconds_per_step"], rel=0.01)


def test_peer_unknown_or_missing_framework_is_a_one_line_error(monkeypatch, capsys, tmp_path):
  with pytest.raises(SystemExit) as exit_info:
    bench_peers.main(["bench_peers", "--framework=jax2", f"--workdir={tmp_path}"])
  assert exit_info.value.code == 2
  assert "--framework='jax2' is unknown" in capsys.readouterr().err
  monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError.
  with pytest.raises(SystemExit):
    bench_peers.main(["bench_peers", "--framework=torch", f"--workdir={tmp_path}"])
  assert "torch is not installed" in capsys.readouterr().err
  assert not os.path.exists(tmp_path / "peer_bench.json")

"""Initialising from another run: loaded/skipped/new, shape errors, frozen params, L2-SP."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import common
from tljax import checkpoint
from tljax.core import optim
from tljax.data import splits
from tljax.errors import ConfigError
from tljax.run import build, validate

SHAPE = (12, 12, 3)


def _config(method="target_only", **model):
  config = common.base_config()
  common.shrink_for_tests(config)
  config.method.name = method
  config.model.update(model)
  return config


def _saved_run(tmp_path, num_classes=3, method="target_only"):
  """A workdir whose checkpoint holds recognisable weights: fresh init + 1."""
  state = build.build(_config(method), SHAPE, num_classes).state
  state = state.replace(
    params=jax.tree.map(lambda x: x + 1.0, state.params),
    ema_params=jax.tree.map(lambda x: x + 2.0, state.ema_params),
  )
  manager = checkpoint.make_manager(str(tmp_path / "pretrain"))
  checkpoint.save(manager, state)
  manager.wait_until_finished()
  manager.close()
  return str(tmp_path / "pretrain"), state


def test_loads_evaluation_weights_and_skips_by_pattern(tmp_path):
  workdir, saved = _saved_run(tmp_path, method="dann")
  fresh = build.build(_config("dann"), SHAPE, 3).state
  built = build.build(
    _config("dann", init_checkpoint=workdir, skip_load=("head/Dense_2",)), SHAPE, 3
  )
  got = built.state.params["classifier"]
  # The classifier comes from the run's evaluation (EMA) weights, except the skipped layer.
  np.testing.assert_array_equal(
    got["backbone"]["Conv_0"]["kernel"], saved.ema_params["backbone"]["Conv_0"]["kernel"]
  )
  np.testing.assert_array_equal(
    got["head"]["Dense_2"]["kernel"], fresh.params["classifier"]["head"]["Dense_2"]["kernel"]
  )
  np.testing.assert_array_equal(
    built.state.params["discriminator"]["MLP_0"]["Dense_0"]["kernel"],
    saved.params["discriminator"]["MLP_0"]["Dense_0"]["kernel"],
  )
  report = built.init_report
  assert report["skipped"] == [
    "params/classifier/head/Dense_2/bias",
    "params/classifier/head/Dense_2/kernel",
  ]
  assert report["new"] == []
  assert len(report["loaded"]) == len(jax.tree.leaves(fresh.params)) - 2
  # EMA weights start from the loaded classifier, not from the random init.
  jax.tree.map(np.testing.assert_array_equal, built.state.ema_params, got)


def test_new_head_for_another_label_set(tmp_path):
  workdir, _ = _saved_run(tmp_path, num_classes=3)
  with pytest.raises(ConfigError, match=r"classifier/head/Dense_2/bias.*skip_load"):
    build.build(_config(init_checkpoint=workdir), SHAPE, 5)
  built = build.build(_config(init_checkpoint=workdir, skip_load=("head/Dense_2",)), SHAPE, 5)
  assert built.state.params["classifier"]["head"]["Dense_2"]["kernel"].shape[-1] == 5


def test_missing_checkpoint_is_a_config_error(tmp_path):
  with pytest.raises(ConfigError, match="holds no checkpoint"):
    build.build(_config(init_checkpoint=str(tmp_path / "nothing")), SHAPE, 3)


def _train(config, steps=3):
  built = build.build(config, SHAPE, 3)
  rng = np.random.default_rng(0)
  state = built.state
  before = jax.tree.map(np.array, state.params)
  for _ in range(steps):
    batch = {
      "target_labelled": {
        "input": rng.integers(0, 256, (6, *SHAPE), dtype=np.uint8),
        "label": rng.integers(0, 3, (6,)),
      }
    }
    state, _ = built.train_step(state, batch, jax.random.key(0))
  return before, state.params


def test_linear_probe_keeps_the_backbone_bit_identical():
  before, after = _train(_config(freeze_backbone=True))
  jax.tree.map(
    np.testing.assert_array_equal, before["classifier"]["backbone"], after["classifier"]["backbone"]
  )
  head = before["classifier"]["head"]["Dense_2"]["kernel"]
  assert np.abs(head - after["classifier"]["head"]["Dense_2"]["kernel"]).max() > 0


def test_freezing_by_regex_keeps_matching_params_bit_identical():
  config = _config()
  config.optim.weight_decay = 1e-2  # Would move frozen weights if masks leaked.
  config.optim.param_groups = ((r"backbone/Conv_0/kernel", None),)
  before, after = _train(config)
  frozen = ("classifier", "backbone", "Conv_0")
  np.testing.assert_array_equal(
    before[frozen[0]][frozen[1]][frozen[2]]["kernel"],
    after[frozen[0]][frozen[1]][frozen[2]]["kernel"],
  )
  assert (
    np.abs(
      before[frozen[0]][frozen[1]][frozen[2]]["bias"]
      - after[frozen[0]][frozen[1]][frozen[2]]["bias"]
    ).max()
    > 0
  )


def test_l2sp_gradient_by_hand():
  # SGD, constant lr 0.1, no momentum; alpha = 0.5 on the pretrained leaf, beta = 0.2 on the new.
  config = common.base_config().optim
  config.update(schedule="constant", lr=0.1, momentum=0.0, l2sp_alpha=0.5, l2sp_beta=0.2)
  mask = {"backbone": True, "head": False}
  tx, _ = optim.make_optimizer(config, 10, pretrained_mask=mask)
  w0 = {"backbone": jnp.array([1.0, -2.0]), "head": jnp.array([3.0])}
  state = tx.init(w0)
  params = {"backbone": jnp.array([1.5, -2.0]), "head": jnp.array([4.0])}  # Moved since w0.
  grads = {"backbone": jnp.array([0.2, 0.0]), "head": jnp.array([1.0])}
  updates, _ = tx.update(grads, state, params)
  # backbone: -0.1 * (g + 0.5 (w - w0)) = -0.1 * ([0.2, 0] + [0.25, 0]) = [-0.045, 0]
  np.testing.assert_allclose(updates["backbone"], [-0.045, 0.0], atol=1e-7)
  # head: -0.1 * (g + 0.2 w) = -0.1 * (1 + 0.8) = -0.18
  np.testing.assert_allclose(updates["head"], [-0.18], atol=1e-7)


def test_l2sp_needs_a_pretrained_init():
  config = _config()
  config.optim.l2sp_alpha = 0.01
  with pytest.raises(ConfigError, match="l2sp_alpha.*init_checkpoint"):
    validate.validate_config(config)


def test_labels_per_class_draws_k_of_every_class():
  labels = np.repeat(np.arange(4), 10)
  arrays = {"input": np.arange(40), "label": labels}
  picked = splits.per_class(arrays, 3, seed=0)
  np.testing.assert_array_equal(np.bincount(picked["label"]), [3, 3, 3, 3])
  np.testing.assert_array_equal(picked["label"], labels[picked["input"]])
  np.testing.assert_array_equal(picked["input"], splits.per_class(arrays, 3, seed=0)["input"])
  assert not np.array_equal(picked["input"], splits.per_class(arrays, 3, seed=1)["input"])
  assert splits.per_class(arrays, 0, seed=0) is arrays
  with pytest.raises(ConfigError, match="target_labels_per_class=11"):
    splits.per_class(arrays, 11, seed=0)


def test_torchvision_weights_fill_the_resnet_backbone(tmp_path):
  from tljax.models import resnet, torch_import  # pylint: disable=g-import-not-at-top

  model = resnet.ResNet(depth=18, width=8)
  shapes = jax.eval_shape(lambda: model.init(jax.random.key(7), jnp.zeros((1, 32, 32, 3)), False))
  rng = np.random.default_rng(7)  # Unlike a fresh init (and no op-by-op ResNet init to wait on).
  reference = jax.tree.map(lambda x: rng.normal(size=x.shape).astype(np.float32), shapes)
  np.savez(tmp_path / "r18.npz", **torch_import.to_torch(reference))
  config = _config(name="resnet18", width=8, torch_weights=str(tmp_path / "r18.npz"))
  built = build.build(config, (32, 32, 3), 3)
  backbone = built.state.params["classifier"]["backbone"]
  jax.tree.map(np.testing.assert_array_equal, backbone, reference["params"])
  jax.tree.map(
    np.testing.assert_array_equal,
    built.state.batch_stats["classifier"]["backbone"],
    reference["batch_stats"],
  )
  assert all(
    n.startswith("params/classifier/head") or "discriminator" in n for n in built.init_report["new"]
  )

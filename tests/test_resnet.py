"""ResNet v1.5 shapes, and torchvision state dicts mapped onto it (layouts checked numerically).

Without torch, the reference is torch's maths written with `lax` in torch's
layouts (NCHW activations, OIHW kernels, BatchNorm from running statistics),
applied straight to the state dict; the Flax model on the mapped weights must
give the same features.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tljax.models import resnet, torch_import


def _random_variables(model, image_size=32, seed=0):
  """Variables with every leaf random (BatchNorm stats too), so no mapping hides behind 0/1."""
  images = jnp.zeros((1, image_size, image_size, 3))
  shapes = jax.eval_shape(lambda: model.init(jax.random.key(seed), images, train=False))
  leaves, tree = jax.tree.flatten(shapes)
  rng = np.random.default_rng(seed + 1)  # NumPy: a jax op per leaf shape would compile each.
  leaves = [np.float32(0.5) + np.float32(0.5) * rng.random(x.shape, np.float32) for x in leaves]
  variables = jax.tree.unflatten(tree, leaves)
  # Conv kernels: random signs, scaled so activations stay O(1) through the depth.
  params = jax.tree_util.tree_map_with_path(
    lambda p, x: (
      (x - np.float32(0.75)) * np.float32(2.0 / np.sqrt(np.prod(x.shape[:-1])))
      if p[-1].key == "kernel"
      else x
    ),
    variables["params"],
  )
  return {"params": params, "batch_stats": variables["batch_stats"]}


def _torch_reference(sd: dict, images: np.ndarray, stages=(2, 2, 2, 2)) -> np.ndarray:
  """torchvision resnet18's eval-mode forward (minus fc) on a state dict, in NCHW."""
  x = (images / 255.0 - np.array(resnet.IMAGENET_MEAN)) / np.array(resnet.IMAGENET_STD)
  x = jnp.asarray(x.transpose(0, 3, 1, 2), jnp.float32)

  def conv(x, name, stride, pad):
    return jax.lax.conv_general_dilated(
      x, sd[name], (stride, stride), [(pad, pad)] * 2, dimension_numbers=("NCHW", "OIHW", "NCHW")
    )

  def bn(x, name):
    shape = (1, -1, 1, 1)
    mean, var = sd[f"{name}.running_mean"].reshape(shape), sd[f"{name}.running_var"].reshape(shape)
    scale, bias = sd[f"{name}.weight"].reshape(shape), sd[f"{name}.bias"].reshape(shape)
    return (x - mean) / jnp.sqrt(var + 1e-5) * scale + bias

  x = jax.nn.relu(bn(conv(x, "conv1.weight", 2, 3), "bn1"))
  x = jax.lax.reduce_window(
    x, -jnp.inf, jax.lax.max, (1, 1, 3, 3), (1, 1, 2, 2), [(0, 0), (0, 0), (1, 1), (1, 1)]
  )
  for i, blocks in enumerate(stages, start=1):
    for j in range(blocks):
      p, stride = f"layer{i}.{j}", 2 if i > 1 and j == 0 else 1
      y = jax.nn.relu(bn(conv(x, f"{p}.conv1.weight", stride, 1), f"{p}.bn1"))
      y = bn(conv(y, f"{p}.conv2.weight", 1, 1), f"{p}.bn2")
      if f"{p}.downsample.0.weight" in sd:
        x = bn(conv(x, f"{p}.downsample.0.weight", stride, 0), f"{p}.downsample.1")
      x = jax.nn.relu(y + x)
  return x.mean(axis=(2, 3))


@pytest.mark.parametrize("depth,width,features", [(18, 8, 64), (50, 4, 128)])
def test_feature_sizes(depth, width, features):
  """Shapes only (traced, not compiled: a ResNet-50 run op by op takes seconds)."""
  model = resnet.ResNet(depth=depth, width=width)
  images = jnp.zeros((2, 32, 32, 3), jnp.uint8)
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), images, train=False))
  out, _ = jax.eval_shape(
    lambda v: model.apply(v, images, train=True, mutable=["batch_stats"]), variables
  )
  assert out.shape == (2, features)


def test_torchvision_names_and_layouts_round_trip():
  model = resnet.ResNet(depth=18, width=8)
  variables = _random_variables(model)
  sd = torch_import.to_torch(variables)
  # torchvision's names and [out, in, kh, kw] layout.
  assert sd["conv1.weight"].shape == (8, 3, 7, 7)
  assert sd["layer2.0.downsample.0.weight"].shape == (16, 8, 1, 1)
  assert sd["layer4.1.bn2.running_var"].shape == (64,)
  assert "layer1.0.downsample.0.weight" not in sd  # Identity shortcut in stage 1.
  assert len(sd) == len(jax.tree.leaves(variables))
  sd["fc.weight"], sd["fc.bias"] = np.zeros((1000, 64)), np.zeros(1000)  # Ignored.
  sd["bn1.num_batches_tracked"] = np.array(7)  # Dropped.
  back = torch_import.from_torch(sd)
  jax.tree.map(np.testing.assert_array_equal, back, jax.tree.map(np.asarray, variables))


def test_mapped_weights_compute_torchvision_features():
  model = resnet.ResNet(depth=18, width=8)
  sd = torch_import.to_torch(_random_variables(model, seed=3))
  images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3)).astype(np.float32)
  expected = np.asarray(jax.jit(_torch_reference)(sd, images))
  apply = jax.jit(lambda variables: model.apply(variables, images, train=False))
  got = apply(torch_import.from_torch(sd))
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
  assert np.abs(expected).max() > 0.1  # Not a trivially small output.
  # A wrong mapping (kernels flipped, as if torch convolved) is 10x the tolerance off.
  for name in ("conv1.weight", "layer3.0.conv2.weight"):
    bad = dict(sd, **{name: sd[name][:, :, ::-1, ::-1]})
    wrong = apply(torch_import.from_torch(bad))
    assert np.abs(wrong - expected).max() > 1e-3, name


def test_state_dict_files(tmp_path):
  model = resnet.ResNet(depth=18, width=8)
  sd = torch_import.to_torch(_random_variables(model))
  np.savez(tmp_path / "r18.npz", **sd)
  read = torch_import.read_state_dict(str(tmp_path / "r18.npz"))
  assert sorted(read) == sorted(sd)
  with pytest.raises(Exception, match="does not exist"):
    torch_import.read_state_dict(str(tmp_path / "missing.pth"))

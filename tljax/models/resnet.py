"""ResNet v1.5 backbones (He et al. 2016; stride on the 3x3 conv): images -> [B, D].

Module and parameter names follow the Flax ImageNet example so that
`tljax/models/torch_import.py` can map torchvision's `resnet18`/`resnet50`
state dicts onto them one to one:

    stem_conv, stem_bn                      conv1, bn1
    stage{i}_block{j}/conv{k}, bn{k}        layer{i}.{j}.conv{k}, bn{k}
    stage{i}_block{j}/proj_conv, proj_bn    layer{i}.{j}.downsample.0, .1

Inputs are normalised with ImageNet's channel mean and std (`input_norm=
"imagenet"`, what torchvision weights expect) or with tljax's digit modes.
"""

import functools

import flax.linen as nn
import jax.numpy as jnp

from tljax.models.backbones import normalize_images

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# depth -> (block, blocks per stage)
LAYOUTS = {
  18: ("basic", (2, 2, 2, 2)),
  34: ("basic", (3, 4, 6, 3)),
  50: ("bottleneck", (3, 4, 6, 3)),
}


def normalize_input(images: jnp.ndarray, mode: str) -> jnp.ndarray:
  if mode == "imagenet":
    x = images.astype(jnp.float32) / 255.0
    return (x - jnp.asarray(IMAGENET_MEAN)) / jnp.asarray(IMAGENET_STD)
  return normalize_images(images, mode)


class BasicBlock(nn.Module):
  """3x3 -> 3x3, identity or 1x1 projection shortcut (ResNet-18/34)."""

  width: int
  strides: int
  norm: functools.partial
  expansion = 1

  @nn.compact
  def __call__(self, x):
    out_width = self.width * self.expansion
    y = nn.Conv(self.width, (3, 3), self.strides, padding=1, use_bias=False, name="conv1")(x)
    y = nn.relu(self.norm(name="bn1")(y))
    y = nn.Conv(self.width, (3, 3), padding=1, use_bias=False, name="conv2")(y)
    y = self.norm(name="bn2", scale_init=nn.initializers.zeros)(y)
    return nn.relu(y + _shortcut(x, out_width, self.strides, self.norm))


class Bottleneck(nn.Module):
  """1x1 -> 3x3 (stride here: v1.5) -> 1x1 x4 (ResNet-50)."""

  width: int
  strides: int
  norm: functools.partial
  expansion = 4

  @nn.compact
  def __call__(self, x):
    out_width = self.width * self.expansion
    y = nn.relu(self.norm(name="bn1")(nn.Conv(self.width, (1, 1), use_bias=False, name="conv1")(x)))
    y = nn.Conv(self.width, (3, 3), self.strides, padding=1, use_bias=False, name="conv2")(y)
    y = nn.relu(self.norm(name="bn2")(y))
    y = nn.Conv(out_width, (1, 1), use_bias=False, name="conv3")(y)
    y = self.norm(name="bn3", scale_init=nn.initializers.zeros)(y)
    return nn.relu(y + _shortcut(x, out_width, self.strides, self.norm))


def _shortcut(x, out_width: int, strides: int, norm):
  if x.shape[-1] == out_width and strides == 1:
    return x
  x = nn.Conv(out_width, (1, 1), strides, use_bias=False, name="proj_conv")(x)
  return norm(name="proj_bn")(x)


class ResNet(nn.Module):
  """ResNet-{18,34,50} v1.5 with BatchNorm; returns globally pooled features [B, D].

  D is 512 for 18/34 and 2048 for 50 (times `width / 64`). `small_inputs`
  replaces the 7x7/2 stem and max pool with a 3x3/1 conv, for 28-32 px
  digits (CIFAR-style); torchvision weights need `small_inputs=False`.
  """

  depth: int = 18
  width: int = 64
  input_norm: str = "imagenet"
  small_inputs: bool = False

  @nn.compact
  def __call__(self, images: jnp.ndarray, train: bool) -> jnp.ndarray:
    block_name, stage_sizes = LAYOUTS[self.depth]
    block = BasicBlock if block_name == "basic" else Bottleneck
    # torchvision's BatchNorm: momentum 0.1 (flax 0.9), eps 1e-5.
    norm = functools.partial(
      nn.BatchNorm, use_running_average=not train, momentum=0.9, epsilon=1e-5
    )
    x = normalize_input(images, self.input_norm)
    if self.small_inputs:
      x = nn.Conv(self.width, (3, 3), padding=1, use_bias=False, name="stem_conv")(x)
      x = nn.relu(norm(name="stem_bn")(x))
    else:
      x = nn.Conv(self.width, (7, 7), 2, padding=3, use_bias=False, name="stem_conv")(x)
      x = nn.relu(norm(name="stem_bn")(x))
      x = nn.max_pool(x, (3, 3), (2, 2), padding=((1, 1), (1, 1)))
    for i, blocks in enumerate(stage_sizes):
      for j in range(blocks):
        strides = 2 if i > 0 and j == 0 else 1
        x = block(self.width * 2**i, strides, norm, name=f"stage{i + 1}_block{j}")(x)
    return x.mean(axis=(1, 2))

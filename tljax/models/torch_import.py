"""torchvision/timm ResNet state dicts <-> tljax `ResNet` variables.

Names (torchvision and timm's `resnet18`/`resnet50` use the same ones):

    conv1.weight                        stem_conv/kernel
    bn1.{weight,bias}                   stem_bn/{scale,bias}
    bn1.{running_mean,running_var}      batch_stats stem_bn/{mean,var}
    layer{i}.{j}.conv{k}.weight         stage{i}_block{j}/conv{k}/kernel
    layer{i}.{j}.bn{k}.*                stage{i}_block{j}/bn{k}/*
    layer{i}.{j}.downsample.0.weight    stage{i}_block{j}/proj_conv/kernel
    layer{i}.{j}.downsample.1.*         stage{i}_block{j}/proj_bn/*
    fc.{weight,bias}                    not imported (ImageNet's 1000-class head)

Layouts: torch convolution weights are [out, in, kh, kw], Flax kernels
[kh, kw, in, out]; `num_batches_tracked` is dropped. Both frameworks compute
cross-correlations with the same padding, so no kernel flip is needed.

Save a torchvision model's weights once, where torch is installed:

    torch.save(torchvision.models.resnet18(weights="IMAGENET1K_V1").state_dict(), "r18.pth")

and point `config.model.torch_weights` at the file (`.pth` needs torch to
read; `np.savez("r18.npz", **{k: v.numpy() for k, v in sd.items()})` does not).
"""

import os
import re

import numpy as np

from tljax.errors import ConfigError

_BN = {"weight": "scale", "bias": "bias", "running_mean": "mean", "running_var": "var"}


def _flax_path(torch_name: str) -> tuple[str, tuple[str, ...]] | None:
  """'layer1.0.bn2.running_var' -> ('batch_stats', ('stage1_block0', 'bn2', 'var'))."""
  parts = torch_name.split(".")
  if parts[0] == "fc" or parts[-1] == "num_batches_tracked":
    return None
  known = re.fullmatch(
    r"(conv1|bn1)\.\w+|layer\d\.\d+\.(conv\d|bn\d|downsample\.[01])\.\w+", torch_name
  )
  if not known:
    raise ConfigError(f"torch weight {torch_name!r} is not part of a torchvision ResNet")
  if parts[0] in ("conv1", "bn1"):
    module, leaf = ("stem_conv" if parts[0] == "conv1" else "stem_bn",), parts[1]
  elif re.fullmatch(r"layer\d", parts[0]):
    block = f"stage{parts[0][5:]}_block{parts[1]}"
    if parts[2] == "downsample":
      module = (block, "proj_conv" if parts[3] == "0" else "proj_bn")
    else:
      module = (block, parts[2])
    leaf = parts[-1]
  else:
    raise ConfigError(f"torch weight {torch_name!r} is not part of a torchvision ResNet")
  if module[-1].endswith("conv") or module[-1].startswith("conv"):
    if leaf != "weight":
      raise ConfigError(f"torch weight {torch_name!r}: a ResNet convolution has only a weight")
    return "params", (*module, "kernel")
  if leaf not in _BN:
    raise ConfigError(
      f"torch weight {torch_name!r}: a BatchNorm has {sorted(_BN)} (and num_batches_tracked)"
    )
  collection = "batch_stats" if leaf.startswith("running") else "params"
  return collection, (*module, _BN[leaf])


def from_torch(state_dict: dict) -> dict:
  """{"params": ..., "batch_stats": ...} nested dicts for `ResNet` from a torch state dict."""
  variables = {"params": {}, "batch_stats": {}}
  for name, value in state_dict.items():
    target = _flax_path(name)
    if target is None:
      continue
    collection, path = target
    if not np.issubdtype(np.asarray(value).dtype, np.number):
      raise ConfigError(
        f"torch weight {name!r} holds {np.asarray(value).dtype} values, not numbers"
      )
    value = np.asarray(value, np.float32)
    if value.ndim == 4:
      value = value.transpose(2, 3, 1, 0)  # [O, I, H, W] -> [H, W, I, O]
    node = variables[collection]
    for key in path[:-1]:
      node = node.setdefault(key, {})
    node[path[-1]] = value
  return variables


def to_torch(variables: dict) -> dict:
  """The inverse of `from_torch` (without `fc`): a torchvision-named dict of numpy arrays."""
  out = {}
  inverse_bn = {v: k for k, v in _BN.items()}
  for collection in ("params", "batch_stats"):
    for path, value in _leaves(variables.get(collection, {})):
      *module, leaf = path
      prefix = _torch_module(module)
      value = np.asarray(value)
      if leaf == "kernel":
        out[f"{prefix}.weight"] = value.transpose(3, 2, 0, 1)
      else:
        out[f"{prefix}.{inverse_bn[leaf]}"] = value
  return out


def _torch_module(module: list[str]) -> str:
  if module[0].startswith("stem"):
    return "conv1" if module[0] == "stem_conv" else "bn1"
  stage, block = re.fullmatch(r"stage(\d)_block(\d+)", module[0]).groups()
  name = {"proj_conv": "downsample.0", "proj_bn": "downsample.1"}.get(module[1], module[1])
  return f"layer{stage}.{block}.{name}"


def _leaves(tree: dict, prefix=()):
  for key, value in tree.items():
    if isinstance(value, dict):
      yield from _leaves(value, (*prefix, key))
    else:
      yield (*prefix, key), value


def read_state_dict(path: str) -> dict:
  """A saved state dict: `.npz` (numpy only) or `.pth`/`.pt` (needs torch)."""
  path = os.path.expanduser(path)
  if not os.path.exists(path):
    raise ConfigError(f"config.model.torch_weights={path!r} does not exist")
  if path.endswith(".npz"):
    try:
      with np.load(path, allow_pickle=False) as f:
        return {k: np.asarray(f[k]) for k in f.files}
    except (OSError, ValueError, EOFError) as e:  # Not a zip; object arrays; cut short.
      raise ConfigError(
        f"config.model.torch_weights={path!r} is not a readable .npz of numeric arrays "
        f"({type(e).__name__}: {str(e)[:150]}); save it with np.savez(path, **arrays)"
      ) from None
  try:
    import torch  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise ConfigError(
      f"reading {path} needs torch; install it, or convert the file once to .npz "
      "(see tljax/models/torch_import.py)"
    ) from None
  try:
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
  except Exception as e:  # pylint: disable=broad-except  (torch raises many kinds)
    raise ConfigError(
      f"config.model.torch_weights={path!r} cannot be read by torch.load "
      f"({type(e).__name__}: {str(e)[:150]})"
    ) from None
  return tensors_of(state_dict, path)


def tensors_of(state_dict, path: str = "the file") -> dict:
  """{name: float32-or-int numpy array} of a state dict, unwrapping timm/Lightning's wrappers.

  `{"state_dict": {...}}` and `{"model": {...}}` are unwrapped; bfloat16 and
  half tensors become float32 (numpy has no bfloat16); non-tensors are dropped.
  """
  for key in ("state_dict", "model"):
    if isinstance(state_dict, dict) and isinstance(state_dict.get(key), dict):
      state_dict = state_dict[key]
  if not isinstance(state_dict, dict):
    raise ConfigError(f"{path} holds a {type(state_dict).__name__}, not a state dict of tensors")
  out = {}
  for name, value in state_dict.items():
    if hasattr(value, "is_floating_point"):
      out[name] = (value.float() if value.is_floating_point() else value).numpy()
  return out

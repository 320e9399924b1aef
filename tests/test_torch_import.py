"""torchvision ResNet-18/50 weights in tljax: a PyTorch network's own outputs, reproduced.

The PyTorch side is torchvision's ResNet written out below (its module
names, v1.5 bottleneck with the stride on the 3x3 conv, eval-mode BatchNorm),
at a reduced width so the test is quick; torch initialises it and the test
randomises every BatchNorm statistic. Its state dict goes through a .pth file
into `model.torch_weights`'s reader and mapping, and the tljax network must
give the same features and, through torch's `fc`, the same logits.
"""

import jax
import numpy as np
import pytest
import torch
from torch import nn

from tljax.models import resnet, torch_import


class BasicBlock(nn.Module):
  expansion = 1

  def __init__(self, inplanes, planes, stride=1, downsample=None):
    super().__init__()
    self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
    self.bn1 = nn.BatchNorm2d(planes)
    self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
    self.bn2 = nn.BatchNorm2d(planes)
    self.relu = nn.ReLU()
    self.downsample = downsample

  def forward(self, x):
    y = self.relu(self.bn1(self.conv1(x)))
    y = self.bn2(self.conv2(y))
    return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
  expansion = 4

  def __init__(self, inplanes, planes, stride=1, downsample=None):
    super().__init__()
    self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
    self.bn1 = nn.BatchNorm2d(planes)
    self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)  # v1.5: stride here.
    self.bn2 = nn.BatchNorm2d(planes)
    self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
    self.bn3 = nn.BatchNorm2d(planes * 4)
    self.relu = nn.ReLU()
    self.downsample = downsample

  def forward(self, x):
    y = self.relu(self.bn1(self.conv1(x)))
    y = self.relu(self.bn2(self.conv2(y)))
    y = self.bn3(self.conv3(y))
    return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class TorchResNet(nn.Module):
  """torchvision.models.ResNet with `width` channels in the first stage (torchvision: 64)."""

  def __init__(self, block, layers, width, num_classes=10):
    super().__init__()
    self.inplanes = width
    self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
    self.bn1 = nn.BatchNorm2d(width)
    self.relu = nn.ReLU()
    self.maxpool = nn.MaxPool2d(3, 2, 1)
    stages = [self._stage(block, width * 2**i, n, 1 if i == 0 else 2) for i, n in enumerate(layers)]
    self.layer1, self.layer2, self.layer3, self.layer4 = stages
    self.fc = nn.Linear(width * 8 * block.expansion, num_classes)

  def _stage(self, block, planes, blocks, stride):
    downsample = None
    if stride != 1 or self.inplanes != planes * block.expansion:
      downsample = nn.Sequential(
        nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
        nn.BatchNorm2d(planes * block.expansion),
      )
    layers = [block(self.inplanes, planes, stride, downsample)]
    self.inplanes = planes * block.expansion
    layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
    return nn.Sequential(*layers)

  def features(self, x):
    x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
    x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
    return torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)


NETWORKS = {18: (BasicBlock, (2, 2, 2, 2), 8), 50: (Bottleneck, (3, 4, 6, 3), 4)}


@pytest.mark.parametrize("depth", [18, 50])
def test_torchvision_weights_give_torchs_features_and_logits(depth, tmp_path):
  block, layers, width = NETWORKS[depth]
  torch.manual_seed(depth)
  net = TorchResNet(block, layers, width)
  generator = torch.Generator().manual_seed(1)
  for module in net.modules():  # Non-trivial statistics and affine terms everywhere.
    if isinstance(module, nn.BatchNorm2d):
      c = module.num_features
      module.running_mean.copy_(torch.randn(c, generator=generator) * 0.5)
      module.running_var.copy_(torch.rand(c, generator=generator) + 0.5)
      module.weight.data.copy_(torch.rand(c, generator=generator) + 0.5)
      module.bias.data.copy_(torch.randn(c, generator=generator) * 0.2)
  net.eval()
  path = tmp_path / f"resnet{depth}.pth"
  torch.save(net.state_dict(), path)
  images = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3)).astype(np.uint8)
  x = (images / 255.0 - np.array(resnet.IMAGENET_MEAN)) / np.array(resnet.IMAGENET_STD)
  with torch.no_grad():
    torch_features = net.features(torch.tensor(x.transpose(0, 3, 1, 2), dtype=torch.float32))
    torch_logits = net.fc(torch_features).numpy()
  torch_features = torch_features.numpy()

  state_dict = torch_import.read_state_dict(str(path))  # The model.torch_weights reader.
  model = resnet.ResNet(depth=depth, width=width)
  features = np.asarray(model.apply(torch_import.from_torch(state_dict), images, train=False))
  scale = np.abs(torch_features).max()
  assert scale > 0.1  # Not a trivially small output.
  np.testing.assert_allclose(features, torch_features, rtol=1e-4, atol=1e-4 * scale)
  fc_w, fc_b = state_dict["fc.weight"], state_dict["fc.bias"]
  logits = features @ np.asarray(fc_w).T + np.asarray(fc_b)
  np.testing.assert_allclose(
    logits, torch_logits, rtol=1e-4, atol=1e-4 * np.abs(torch_logits).max()
  )
  # Control: a mapping that swapped the kernels' height and width is far off.
  bad = {
    k: np.asarray(v).transpose(0, 1, 3, 2) if np.ndim(v) == 4 else v for k, v in state_dict.items()
  }
  wrong = np.asarray(model.apply(torch_import.from_torch(bad), images, train=False))
  assert np.abs(wrong - torch_features).max() > 100 * 1e-4 * scale  # 100x the tolerance.
  jax.clear_caches()

"""Adapt your own flax module with DANN (or any tljax method).

    python examples/own_flax_module.py --steps 300

What a model must provide: `__call__(images, train: bool)` returning
`(logits [B, K], features [B, D])`. The method reads the features (DANN's
discriminator sees them through the gradient reversal layer) and the
logits; `train` switches dropout and BatchNorm, whose statistics tljax keeps
in `state.batch_stats["classifier"]`. Images arrive as uint8 [B, H, W, C] or,
randomly shifted, as float32 in [0, 255].
"""

import argparse
import os
import sys

import flax.linen as nn
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import custom_loop  # noqa: E402  (the loop of examples/custom_loop.py, with this model)

from configs import digits  # noqa: E402


class SmallNet(nn.Module):
  """Not one of tljax's models: two convolutions, global pooling, a linear head."""

  num_classes: int = 10

  @nn.compact
  def __call__(self, images: jnp.ndarray, train: bool):
    x = images.astype(jnp.float32) / 255.0
    x = (x - x.mean(axis=(1, 2, 3), keepdims=True)) / (x.std(axis=(1, 2, 3), keepdims=True) + 1e-3)
    for width in (32, 64):
      x = nn.Conv(width, (3, 3))(x)
      x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
      x = nn.max_pool(nn.relu(x), (2, 2), (2, 2))
    features = x.reshape(x.shape[0], -1)  # [B, 7*7*64]: what domain adaptation aligns.
    logits = nn.Dense(self.num_classes)(nn.relu(nn.Dense(128)(features)))
    return logits, features


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--method", default="dann")
  parser.add_argument("--steps", type=int, default=300)
  parser.add_argument(
    "--data_dir", default=None, help="TFDS data dir (default ~/tensorflow_datasets)"
  )
  args = parser.parse_args()
  config = digits.get_config()
  config.method.name, config.train.num_steps = args.method, args.steps
  config.data.data_dir = args.data_dir
  _, accuracy = custom_loop.train(config, SmallNet(num_classes=10))
  print(f"SmallNet + {args.method}: target test accuracy {accuracy['target_test']:.3f}")


if __name__ == "__main__":
  main()

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
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from configs import dann_digits
from tljax.data import domains
from tljax.methods import augment, base
from tljax.train import (
  StepHParams,
  confusion_summary,
  create_train_state,
  eval_step,
  make_optimizer,
  splits,
  train_step,
)


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

  config = dann_digits.get_config()
  config.method.name, config.train.num_steps = args.method, args.steps
  config.data.data_dir = args.data_dir
  data = splits.load_domains(config.data)
  num_classes = splits.num_classes(data)
  model = SmallNet(num_classes)
  method = base.create(config, num_classes)  # DANN's discriminator: config.model's widths.
  tx, lr_schedule = make_optimizer(config.optim, args.steps)
  image_shape = data.source_train["input"].shape[1:]
  state = create_train_state(jax.random.key(0), model, method, tx, image_shape)
  step = jax.jit(
    functools.partial(
      train_step, method=method, classifier=model, tx=tx, lr_schedule=lr_schedule,
      hparams=StepHParams(augment=augment.Images(shift=2)),
    ),
    donate_argnums=(0,),
  )  # fmt: skip
  rng = jax.random.key(0)
  streams = splits.training_streams(config, data, method.streams)
  for i, batch in zip(range(args.steps), domains.batches(streams)):
    state, metrics = step(state, batch, rng)
  print(f"step {args.steps}: " + ", ".join(f"{k} {float(v):.3f}" for k, v in metrics.items()))
  evaluate = jax.jit(functools.partial(eval_step, classifier=model, num_classes=num_classes))
  confusion = sum(
    np.asarray(evaluate(state, b)["confusion"])
    for b in domains.eval_batches(data.target_test, config.data.eval_batch_size)
  )
  print(
    f"SmallNet + {args.method}: target test accuracy {confusion_summary(confusion)['accuracy']:.3f}"
  )


if __name__ == "__main__":
  main()

"""Train any tljax method in your own loop with its pure train step.

    python examples/custom_loop.py --method cdan --steps 300

Everything a run needs is built from a config in a few calls; the loop is
yours: `train_step(state, batch, rng) -> (state, metrics)` is a pure
function with the method, model and optimizer bound before `jax.jit`.
"""

import argparse
import functools

import jax
import numpy as np

from configs import dann_digits
from tljax import models
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


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--method", default="dann", help="any file name in tljax/methods/")
  parser.add_argument("--steps", type=int, default=300)
  parser.add_argument(
    "--data_dir", default=None, help="TFDS data dir (default ~/tensorflow_datasets)"
  )
  parser.add_argument("--tiny", action="store_true", help="a few-hundred-parameter model")
  args = parser.parse_args()

  config = dann_digits.get_config("tiny" if args.tiny else None)
  config.method.name, config.train.num_steps = args.method, args.steps
  config.data.data_dir = args.data_dir
  data = splits.load_domains(config.data)  # digits -> digits_m, embedded and offline.
  num_classes = splits.num_classes(data)

  method = base.create(config, num_classes)  # Reads and checks config.method.<name>.
  classifier = models.build_classifier(config.model, num_classes)
  tx, lr_schedule = make_optimizer(config.optim, args.steps)
  image_shape = data.source_train["input"].shape[1:]
  state = create_train_state(jax.random.key(config.seed), classifier, method, tx, image_shape)
  hparams = StepHParams(
    augment=augment.Images(shift=config.data.random_shift), ema_decay=config.train.ema_decay
  )
  step = jax.jit(
    functools.partial(
      train_step, method=method, classifier=classifier, tx=tx, lr_schedule=lr_schedule,
      hparams=hparams,
    ),
    donate_argnums=(0,),
  )  # fmt: skip

  # One batch entry per stream the method reads; target labels never enter.
  streams = splits.training_streams(config, data, method.streams)
  rng = jax.random.key(config.seed)
  for i, batch in zip(range(args.steps), domains.batches(streams)):
    state, metrics = step(state, batch, rng)
    if (i + 1) % max(args.steps // 5, 1) == 0:
      shown = ", ".join(f"{k} {float(v):.3f}" for k, v in sorted(metrics.items()))
      print(f"step {i + 1}: {shown}")

  evaluate = jax.jit(functools.partial(eval_step, classifier=classifier, num_classes=num_classes))
  confusion = sum(
    np.asarray(evaluate(state, b)["confusion"])
    for b in domains.eval_batches(data.target_test, config.data.eval_batch_size)
  )
  print(f"{args.method}: target test accuracy {confusion_summary(confusion)['accuracy']:.3f}")


if __name__ == "__main__":
  main()

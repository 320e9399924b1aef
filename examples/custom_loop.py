"""Train any tljax method in your own loop with its pure train step.

    python examples/custom_loop.py --method cdan --steps 300

Everything a run needs is built from a config in a few calls; the loop is
yours: `train_step(state, batch, rng) -> (state, metrics)` is a pure
function with the method, model and optimizer bound before `jax.jit`. A
method that computes something from the training sets before the first step
(kmm and kliep: instance weights; delta, co_tuning: state from the pretrained
network) does it in `core.prepare`, which also returns the sets the batches
must come from (the source batches then carry the weights).
"""

import argparse
import functools

import jax

from configs import digits
from tljax import core, methods, models
from tljax.core import optim
from tljax.core import state as state_lib
from tljax.core import step as step_lib
from tljax.data import augment, splits
from tljax.data import streams as streams_lib
from tljax.run import evaluation


def train(config, classifier=None, log_every: int = 0):
  """Trains `config.method.name` on the config's data pair: (final state, {split: accuracy}).

  `classifier`: any flax module returning (logits, features); default: `config.model`'s.
  """
  data = splits.load_domains(config.data)  # digits -> digits_m: embedded and offline.
  num_classes, shape = splits.num_classes(data), data.source_train["input"].shape[1:]
  method = methods.create(config, num_classes, shape)  # Reads config.method.<name>, checked.
  classifier = classifier or models.build_classifier(config.model, method.outputs)
  tx, lr_schedule = optim.make_optimizer(config.optim, config.train.num_steps)
  init_rng = state_lib.init_rng(config.seed)  # As tljax's runs draw it from the seed.
  state = state_lib.create_train_state(init_rng, classifier, method, tx, shape, prepare_later=True)
  # The training arrays by stream; the method prepares on them (a no-op for most methods).
  sets = splits.training_sets(config, data, method.streams)
  state, sets = core.prepare(method, classifier, state, sets)
  hparams = step_lib.StepHParams(
    augment=augment.Images(shift=config.data.random_shift), ema_decay=config.train.ema_decay
  )
  step = jax.jit(
    functools.partial(
      step_lib.train_step, method=method, classifier=classifier, tx=tx,
      lr_schedule=lr_schedule, hparams=hparams,
    ),
    donate_argnums=(0,),
  )  # fmt: skip
  # One batch entry per stream the method reads; target labels never enter.
  streams = splits.training_streams(config, sets, method.streams)
  rng = jax.random.key(config.seed)
  for i, batch in zip(range(config.train.num_steps), streams_lib.batches(streams)):
    state, metrics = step(state, batch, rng)
    if log_every and (i + 1) % log_every == 0:
      shown = ", ".join(f"{k} {float(v):.3f}" for k, v in sorted(metrics.items()))
      print(f"step {i + 1}: {shown}")
  evaluate = jax.jit(
    functools.partial(
      step_lib.eval_step, classifier=classifier, method=method, num_labels=num_classes
    )
  )
  splits_ = {"source_test": data.source_test, "target_test": data.target_test}
  size = config.data.eval_batch_size
  accuracy = {
    k: evaluation.evaluate(evaluate, state, v, size)["accuracy"] for k, v in splits_.items()
  }
  return state, accuracy


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--method", default="dann", help="any file name in tljax/methods/")
  parser.add_argument("--steps", type=int, default=300)
  parser.add_argument(
    "--data_dir", default=None, help="TFDS data dir (default ~/tensorflow_datasets)"
  )
  parser.add_argument("--tiny", action="store_true", help="a few-hundred-parameter model")
  args = parser.parse_args()
  config = digits.get_config("tiny" if args.tiny else None)
  config.method.name, config.train.num_steps = args.method, args.steps
  config.data.data_dir = args.data_dir
  _, accuracy = train(config, log_every=max(args.steps // 5, 1))
  print(f"{args.method}: target test accuracy {accuracy['target_test']:.3f}")


if __name__ == "__main__":
  main()

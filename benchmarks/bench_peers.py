"""Times the same DANN digits train step in PyTorch, TensorFlow or ADAPT; writes peer_bench.json.

    python -m benchmarks.bench_peers --framework torch --batch 128 --workdir runs/bench/torch128

The network is the one `configs/digits.py:paper` trains: conv5x5-32 ->
ReLU -> maxpool2 -> conv5x5-48 -> ReLU -> maxpool2 -> 768 features, a
FC100-FC100-FC10 label head, and an FC100-FC1 domain classifier behind a
gradient reversal. The optimizer is SGD with momentum 0.9. Each step is a
forward pass, a backward pass and an update on B source + B target random
images. Medians are taken as in `benchmarks.bench`: over --steps steps after
--warmup, each ended when its result is on the host. The frameworks are
installed separately; none is a tljax dependency except TensorFlow:

  torch       plain eager PyTorch (`pip install torch`).
  tensorflow  Keras layers, GradientTape, `tf.function` without XLA.
  adapt       ADAPT's `DANN` through Keras `fit`, timing each batch
              (`pip install --no-deps adapt scikeras cvxopt`).
"""

import argparse
import os
import sys
import time

import numpy as np

from benchmarks import timing

FRAMEWORKS = ("torch", "tensorflow", "adapt")
_INSTALL = {
  "torch": "pip install torch",
  "tensorflow": "pip install tensorflow-cpu",
  "adapt": "pip install --no-deps adapt scikeras cvxopt",
}


def _images(rng, batch: int) -> np.ndarray:
  return rng.integers(0, 256, (batch, 28, 28, 3), dtype=np.uint8)


def time_torch(batch: int, warmup: int, steps: int) -> tuple[list[float], dict]:
  import torch  # pylint: disable=g-import-not-at-top
  from torch import nn  # pylint: disable=g-import-not-at-top
  import torch.nn.functional as F  # pylint: disable=g-import-not-at-top

  class ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):  # pylint: disable=arguments-differ
      return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):  # pylint: disable=arguments-differ
      return -grad

  torch.manual_seed(0)
  backbone = nn.Sequential(
    nn.Conv2d(3, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 48, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
  )  # fmt: skip
  head = nn.Sequential(
    nn.Linear(768, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10)
  )
  domain = nn.Sequential(nn.Linear(768, 100), nn.ReLU(), nn.Linear(100, 1))
  modules = (backbone, head, domain)
  params = [p for m in modules for p in m.parameters()]
  optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9)
  rng = np.random.default_rng(0)
  images = torch.from_numpy(np.concatenate([_images(rng, batch), _images(rng, batch)]))
  images = images.permute(0, 3, 1, 2).contiguous()  # NCHW, PyTorch's default.
  labels = torch.from_numpy(rng.integers(0, 10, (batch,)))
  is_target = torch.cat([torch.zeros(batch), torch.ones(batch)])

  def step():
    features = backbone(images.float() / 255.0)
    task = F.cross_entropy(head(features[:batch]), labels)
    logits = domain(ReverseGradient.apply(features))[:, 0]
    loss = task + F.binary_cross_entropy_with_logits(logits, is_target)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()

  info = {"version": torch.__version__, "threads": torch.get_num_threads(), "layout": "NCHW"}
  return timing.time_calls(step, warmup, steps), info


def _keras_models():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  layers = tf.keras.layers
  tf.keras.utils.set_random_seed(0)
  backbone = tf.keras.Sequential([
    tf.keras.Input((28, 28, 3)),
    layers.Conv2D(32, 5, activation="relu"), layers.MaxPool2D(2),
    layers.Conv2D(48, 5, activation="relu"), layers.MaxPool2D(2), layers.Flatten(),
  ])  # fmt: skip
  head = tf.keras.Sequential([
    tf.keras.Input((768,)), layers.Dense(100, activation="relu"),
    layers.Dense(100, activation="relu"), layers.Dense(10),
  ])  # fmt: skip
  domain = tf.keras.Sequential(
    [tf.keras.Input((768,)), layers.Dense(100, activation="relu"), layers.Dense(1)]
  )
  return backbone, head, domain


def time_tensorflow(batch: int, warmup: int, steps: int) -> tuple[list[float], dict]:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  backbone, head, domain = _keras_models()
  variables = [v for m in (backbone, head, domain) for v in m.trainable_variables]
  optimizer = tf.keras.optimizers.SGD(0.01, momentum=0.9)
  rng = np.random.default_rng(0)
  images = tf.constant(np.concatenate([_images(rng, batch), _images(rng, batch)]))
  labels = tf.constant(rng.integers(0, 10, (batch,)))
  is_target = tf.concat([tf.zeros(batch), tf.ones(batch)], 0)

  @tf.custom_gradient
  def reverse_gradient(x):
    return tf.identity(x), lambda grad: -grad

  @tf.function
  def step_graph():
    with tf.GradientTape() as tape:
      features = backbone(tf.cast(images, tf.float32) / 255.0, training=True)
      logits = head(features[:batch], training=True)
      task = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
      domain_logits = domain(reverse_gradient(features), training=True)[:, 0]
      loss = task + tf.reduce_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(is_target, domain_logits)
      )
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss

  info = {"version": tf.__version__, "threads": os.cpu_count(), "layout": "NHWC"}
  return timing.time_calls(lambda: step_graph().numpy(), warmup, steps), info


def time_adapt(batch: int, warmup: int, steps: int) -> tuple[list[float], dict]:
  from adapt.feature_based import DANN  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  backbone, head, domain = _keras_models()
  head = tf.keras.Sequential([head, tf.keras.layers.Softmax()])
  domain = tf.keras.Sequential([domain, tf.keras.layers.Activation("sigmoid")])
  rng = np.random.default_rng(0)
  n = batch * (warmup + steps)  # One epoch: warm-up batches, then timed ones.
  source = rng.random((n, 28, 28, 3), dtype=np.float32)
  target = rng.random((n, 28, 28, 3), dtype=np.float32)
  labels = tf.keras.utils.to_categorical(rng.integers(0, 10, n), 10)
  times = []

  class Timer(tf.keras.callbacks.Callback):
    def on_train_batch_begin(self, b, logs=None):
      self.start = time.perf_counter()

    def on_train_batch_end(self, b, logs=None):
      times.append(time.perf_counter() - self.start)

  model = DANN(
    backbone, head, domain, Xt=target, lambda_=1.0, loss="categorical_crossentropy",
    optimizer=tf.keras.optimizers.SGD(0.01, momentum=0.9), random_state=0,
  )  # fmt: skip
  model.fit(
    source, labels, epochs=1, batch_size=batch, shuffle=False, verbose=0, callbacks=[Timer()]
  )
  import adapt  # pylint: disable=g-import-not-at-top

  version = getattr(adapt, "__version__", None) or _distribution_version("adapt")
  return times[warmup:], {"version": version, "tensorflow": tf.__version__, "layout": "NHWC"}


def _distribution_version(name: str) -> str | None:
  from importlib import metadata  # pylint: disable=g-import-not-at-top

  try:
    return metadata.version(name)
  except metadata.PackageNotFoundError:
    return None


def run(framework: str, batch: int, warmup: int, steps: int) -> dict:
  """{framework, seconds_per_step, train_steps_per_sec, examples_per_sec, ...}."""
  if framework not in FRAMEWORKS:
    raise ValueError(f"--framework={framework!r} is unknown; choose one of {FRAMEWORKS}")
  timer = {"torch": time_torch, "tensorflow": time_tensorflow, "adapt": time_adapt}[framework]
  try:
    times, info = timer(batch, warmup, steps)
  except ImportError as e:
    raise ImportError(f"{framework} is not installed ({e}); `{_INSTALL[framework]}`") from e
  seconds = float(np.median(times))
  return {
    "framework": framework,
    **info,
    "batch_size_per_domain": batch,
    "steps": len(times),
    "seconds_per_step": round(seconds, 5),
    "train_steps_per_sec": round(1.0 / seconds, 2),
    "examples_per_sec": round(2 * batch / seconds, 1),
  }


def main(argv: list[str]) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--framework", required=True, help=f"one of {FRAMEWORKS}")
  parser.add_argument("--batch", type=int, default=128, help="source (and target) images a step")
  parser.add_argument("--steps", type=int, default=100, help="timed steps")
  parser.add_argument("--warmup", type=int, default=10, help="untimed steps first")
  parser.add_argument("--workdir", default="runs/bench/peer", help="peer_bench.json goes here")
  args = parser.parse_args(argv[1:])
  try:
    result = run(args.framework, args.batch, args.warmup, args.steps)
  except (ValueError, ImportError) as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  timing.write_json(result, args.workdir, "peer_bench.json")


if __name__ == "__main__":
  main(sys.argv)

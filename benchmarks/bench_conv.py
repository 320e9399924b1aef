"""Times the DANN digits network's convolution pieces, plain (`xla`) and `fast`.

    python -m benchmarks.bench_conv --batch 256 --workdir runs/bench/conv

For a batch of 28x28x3 images: the whole backbone forward and gradient, the
first conv + pool forward and kernel gradient, and the second conv's
forward, kernel gradient and input gradient, each with its useful GFLOP/s;
and a dense matmul's GFLOP/s as the machine's ceiling. Medians over 30 calls
of a jitted function, each ended with `block_until_ready`; writes
`WORKDIR/bench_conv.json`.
"""

import argparse
import os
import sys

from benchmarks import timing
from tljax.run import cli


def _median_ms(fn, *args, steps: int = 30) -> float:
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top

  fn = jax.jit(fn)
  times = timing.time_calls(lambda: jax.block_until_ready(fn(*args)), warmup=3, steps=steps)
  return round(1000 * float(np.median(times)), 2)


def _gflops(flops: float, ms: float) -> float:
  return round(flops / ms / 1e6, 1)


# Useful multiply-adds x 2 per image, as a direct convolution counts them.
CONV1_FLOPS = 2 * 24 * 24 * 5 * 5 * 3 * 32  # 28x28x3 -> 24x24x32.
CONV2_FLOPS = 2 * 8 * 8 * 5 * 5 * 32 * 48  # 12x12x32 -> 8x8x48.


def time_matmul(size: int, steps: int = 30) -> dict:
  """The CPU's dense float32 matmul rate: the ceiling the convolutions are held to."""
  import jax  # pylint: disable=g-import-not-at-top

  a = jax.random.normal(jax.random.key(0), (size, size))
  ms = _median_ms(lambda a, b: a @ b, a, a, steps=steps)
  return {"matmul_size": size, "matmul_ms": ms, "matmul_gflops": _gflops(2 * size**3, ms)}


def time_pieces(batch: int, steps: int = 30) -> dict:
  """{piece_ms_impl, piece_gflops_impl} for impl in (xla, fast).

  GFLOP/s count only the useful work of a direct convolution (the backbone
  gradient: two forward convolutions, two kernel gradients and the second
  layer's input gradient), so rearrangements that do extra multiply-adds
  show up as a lower rate.
  """
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top

  from tljax.models import conv  # pylint: disable=g-import-not-at-top
  from tljax.models.backbones import DigitsConvNet  # pylint: disable=g-import-not-at-top

  normal = lambda seed, shape: jax.random.normal(jax.random.key(seed), shape)
  images = jax.random.randint(jax.random.key(0), (batch, 28, 28, 3), 0, 256).astype(jnp.uint8)
  image, kernel1 = normal(1, (batch, 28, 28, 3)), normal(2, (5, 5, 3, 32))
  pooled_grad1, kernel2 = normal(3, (batch, 12, 12, 32)), normal(4, (5, 5, 32, 48))
  out_grad2, probe = normal(5, (batch, 8, 8, 48)), normal(6, (batch, 768))
  activation1 = jax.nn.relu(normal(7, (batch, 12, 12, 32)))
  pooled = {
    "xla": lambda x, k: conv.max_pool_2x2(conv.valid_conv(x, k, "xla")),
    "fast": conv.pooled_valid_conv,
  }
  conv1, conv2 = batch * CONV1_FLOPS, batch * CONV2_FLOPS
  result = {}
  for impl in ("xla", "fast"):
    net = DigitsConvNet(conv_impl=impl)
    params = net.init(jax.random.key(0), images, True)
    forward = lambda p, i, net=net: net.apply(p, i, True)
    pool = pooled[impl]
    conv2_vjp = lambda x, k, g, wrt, impl=impl: jax.vjp(
      lambda x, k: conv.valid_conv(x, k, impl), x, k
    )[1](g)[wrt]
    pieces = {  # name: (function, arguments, useful FLOPs)
      "backbone_forward": (forward, (params, images), conv1 + conv2),
      "backbone_gradient": (
        jax.grad(lambda p, i: (forward(p, i) * probe).sum()),
        (params, images),
        2 * conv1 + 3 * conv2,
      ),
      "conv1_pool_forward": (pool, (image, kernel1), conv1),
      "conv1_pool_kernel_grad": (
        lambda x, k, g, pool=pool: jax.vjp(lambda k: pool(x, k), k)[1](g)[0],
        (image, kernel1, pooled_grad1),
        2 * conv1,
      ),
      "conv2_forward": (lambda x, k: conv.valid_conv(x, k, impl), (activation1, kernel2), conv2),
      "conv2_kernel_grad": (
        lambda x, k, g: conv2_vjp(x, k, g, 1),
        (activation1, kernel2, out_grad2),
        conv2,
      ),
      "conv2_input_grad": (
        lambda x, k, g: conv2_vjp(x, k, g, 0),
        (activation1, kernel2, out_grad2),
        conv2,
      ),
    }
    for name, (fn, args, flops) in pieces.items():
      ms = _median_ms(fn, *args, steps=steps)
      result[f"{name}_ms_{impl}"] = ms
      result[f"{name}_gflops_{impl}"] = _gflops(flops, ms)
  return result


def main(argv: list[str]) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", default="runs/bench/conv", help="bench_conv.json goes here")
  parser.add_argument("--batch", type=int, default=256, help="images per call")
  parser.add_argument("--matmul", type=int, default=2048, help="size of the reference matmul")
  parser.add_argument("--steps", type=int, default=30, help="timed calls per piece")
  parser.add_argument(
    "--noxla_cpu_fast", action="store_true", help="do not add the XLA:CPU YNN flag (see README)"
  )
  args = parser.parse_args(argv[1:])
  cli.start_analysis(fast_cpu=not args.noxla_cpu_fast)
  import jax  # pylint: disable=g-import-not-at-top

  result = {
    "batch": args.batch,
    "xla_flags": os.environ.get("XLA_FLAGS", ""),
    "device_kind": jax.devices()[0].device_kind,
    **time_matmul(args.matmul, args.steps),
    **time_pieces(args.batch, args.steps),
  }
  timing.write_json(result, args.workdir, "bench_conv.json")


if __name__ == "__main__":
  main(sys.argv)

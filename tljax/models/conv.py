"""Stride-1 VALID NHWC convolutions arranged to run faster on XLA:CPU.

The DANN digits network's `conv_impl="fast"` (the default) uses both pieces
below; `"xla"` is plain `lax.conv_general_dilated` with JAX's own gradients.
They compute the same maths and agree to float rounding.

Input gradient (`valid_conv`). The input gradient of a VALID convolution is a
"full" convolution of the output gradient: XLA pads it by k-1 on every side
and runs a k x k convolution, so with 5x5 kernels on 8x8 outputs (the DANN
digits network's second layer) over half of the multiply-adds hit the
padding. `valid_conv` computes it as one 1 x k convolution over the
width-padded gradient that produces all k kernel rows at once (k x C_in
output channels), followed by k shifted row sums: 1.5x instead of 2.25x the
useful work (16-25 ms against 27-40 ms at 256 images on a 2-core CPU,
`python -m benchmarks.bench_conv`). The forward pass and the kernel gradient
are XLA's own; the input gradient equals XLA's up to float rounding (the sums
run in another order).

Convolution + 2x2 max pool on few channels (`pooled_valid_conv`). A 5x5
convolution of a 3-channel image is a poor fit for the CPU's vector units;
after a space-to-depth of the input (each 2x2 block of pixels becomes one
pixel of 4x the channels) the same outputs come from a 3x3 convolution over
12 channels whose 4 x C_out output channels are the 4 positions of each 2x2
pooling window, so the pooling becomes a max over channel groups (conv + pool
forward 12-13 ms against 19-23 ms, same command).
"""

import functools

import jax
from jax import lax
import jax.numpy as jnp
import numpy as np

IMPLS = ("fast", "xla")
_DIMENSIONS = ("NHWC", "HWIO", "NHWC")


def _conv(x: jnp.ndarray, kernel: jnp.ndarray, padding="VALID") -> jnp.ndarray:
  return lax.conv_general_dilated(x, kernel, (1, 1), padding, dimension_numbers=_DIMENSIONS)


def input_grad_by_rows(out_grad: jnp.ndarray, kernel: jnp.ndarray) -> jnp.ndarray:
  """d(sum(out_grad * conv(x, kernel)))/dx for a stride-1 VALID conv.

  Args:
    out_grad: [B, H - kh + 1, W - kw + 1, C_out].
    kernel: [kh, kw, C_in, C_out].

  Returns:
    [B, H, W, C_in].
  """
  kh, kw, c_in, c_out = kernel.shape
  b, oh, _, _ = out_grad.shape
  # rows[b, r, w, i, c] = sum_{j, o} out_grad[b, r, w - j, o] * kernel[i, j, c, o].
  row_kernel = jnp.flip(kernel, 1).transpose(1, 3, 0, 2).reshape(1, kw, c_out, kh * c_in)
  rows = _conv(out_grad, row_kernel, ((0, 0), (kw - 1, kw - 1)))
  rows = rows.reshape(b, oh, rows.shape[2], kh, c_in)
  # x row r + i receives kernel row i of output row r.
  shifted = (
    jnp.pad(rows[:, :, :, i], ((0, 0), (i, kh - 1 - i), (0, 0), (0, 0))) for i in range(kh)
  )
  return functools.reduce(jnp.add, shifted)


@jax.custom_vjp
def _conv_rows_grad(x, kernel):
  return _conv(x, kernel)


def _forward(x, kernel):
  return _conv(x, kernel), (x, kernel)


def _backward(residuals, out_grad):
  x, kernel = residuals
  _, kernel_vjp = jax.vjp(lambda k: _conv(x, k), kernel)
  return input_grad_by_rows(out_grad, kernel), kernel_vjp(out_grad)[0]


_conv_rows_grad.defvjp(_forward, _backward)


def max_pool_2x2(x: jnp.ndarray) -> jnp.ndarray:
  """2x2/stride-2 max pooling as the maximum of four strided slices (fast backward on XLA:CPU).

  Odd trailing rows/columns are dropped, as `nn.max_pool(..., padding="VALID")`
  does. Not `reshape(...).max(axis)`: that gradient divides by the count of
  entries equal to the recomputed maximum, which is 0 (a NaN gradient) when
  XLA recomputes the two with different rounding (seen on audio with
  `jax_disable_most_optimizations`).
  """
  h, w = x.shape[1] - x.shape[1] % 2, x.shape[2] - x.shape[2] % 2
  x = x[:, :h, :w, :]
  rows = jnp.maximum(x[:, 0::2], x[:, 1::2])
  return jnp.maximum(rows[:, :, 0::2], rows[:, :, 1::2])


def _check(impl: str) -> None:
  if impl not in IMPLS:
    raise ValueError(f"conv impl={impl!r} is unknown; choose one of {IMPLS}")


def valid_conv(x: jnp.ndarray, kernel: jnp.ndarray, impl: str = "fast") -> jnp.ndarray:
  """conv(x [B, H, W, C_in], kernel [kh, kw, C_in, C_out]) -> [B, H-kh+1, W-kw+1, C_out].

  "fast" takes d/dx from `input_grad_by_rows` (unused and pruned by XLA when
  x is the input image); "xla" is JAX's own transpose rule.
  """
  _check(impl)
  return _conv_rows_grad(x, kernel) if impl == "fast" else _conv(x, kernel)


def space_to_depth(x: jnp.ndarray) -> jnp.ndarray:
  """[B, H, W, C] -> [B, H/2, W/2, 4C], channels ordered (row in block, column, C)."""
  b, h, w, c = x.shape
  x = x.reshape(b, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(b, h // 2, w // 2, 4 * c)


def space_to_depth_kernel(kernel: jnp.ndarray) -> jnp.ndarray:
  """[k, k, C, O] (k odd) -> [t, t, 4C, 4O] with t = (k + 1) / 2.

  Output channel (a, e, o) of the new kernel at pixel (u, v) is the old
  output o at pixel (2u + a, 2v + e): new[s, t, (di, dj, c), (a, e, o)] =
  old[2s + di - a, 2t + dj - e, c, o], zero where that index falls outside.
  """
  k, _, c, o = kernel.shape
  taps = (k + 1) // 2
  # index[s, d, a] = 2s + d - a into the kernel padded by one zero on each side.
  index = np.array([[[2 * s + d - a + 1 for a in range(2)] for d in range(2)] for s in range(taps)])
  padded = jnp.pad(kernel, ((1, 1), (1, 1), (0, 0), (0, 0)))
  new = padded[index[:, :, :, None, None, None], index[None, None, None]]  # s,di,a,t,dj,e,c,o
  return new.transpose(0, 3, 1, 4, 6, 2, 5, 7).reshape(taps, taps, 4 * c, 4 * o)


def pooled_valid_conv(x: jnp.ndarray, kernel: jnp.ndarray) -> jnp.ndarray:
  """2x2/stride-2 max pool of `valid_conv(x, kernel)`; odd trailing rows/columns dropped.

  Goes through space-to-depth when x has at most 4 channels (an image), the
  kernel is square with an odd size and H, W are even; otherwise pools
  `valid_conv(x, kernel, "fast")`.
  """
  _, h, w, c = x.shape
  k, k_w, _, out = kernel.shape
  if c > 4 or k != k_w or k % 2 == 0 or h % 2 or w % 2:
    return max_pool_2x2(valid_conv(x, kernel, "fast"))
  y = _conv(space_to_depth(x), space_to_depth_kernel(kernel))
  return y.reshape(*y.shape[:3], 4, out).max(axis=3)

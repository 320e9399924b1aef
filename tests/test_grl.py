import jax
import jax.numpy as jnp
import numpy as np

from tljax.losses.grl import gradient_reversal


def test_forward_is_identity():
  x = jnp.array([[1.5, -2.0], [0.0, 3.0]])
  np.testing.assert_array_equal(gradient_reversal(x, jnp.float32(0.7)), x)


def test_backward_is_minus_coeff_times_upstream_without_recompiling():
  traces = []

  @jax.jit
  def grad_of_weighted_sum(x, coeff):
    traces.append(1)
    # d/dx sum(w * grl(x)) = -coeff * w, with upstream gradient w.
    return jax.grad(lambda x: jnp.sum(upstream * gradient_reversal(x, coeff)))(x)

  upstream = jnp.array([1.0, -2.0, 0.5])
  x = jnp.array([3.0, 4.0, 5.0])
  for coeff in (0.25, 2.0):
    got = grad_of_weighted_sum(x, jnp.float32(coeff))
    np.testing.assert_array_equal(got, -coeff * np.array([1.0, -2.0, 0.5]))
  assert len(traces) == 1  # The second coefficient reused the compiled step.


def test_no_gradient_flows_to_coeff():
  g = jax.grad(lambda c: jnp.sum(gradient_reversal(jnp.ones(3), c)))(0.5)
  assert g == 0.0

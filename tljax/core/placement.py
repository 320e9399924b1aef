"""Data-parallel placement of one pure train step: single, pmap or sharded jit.

- `single`: `jax.jit` on the default device.
- `pmap`: one replica per local device; the step gets `axis_name="batch"` and
  `lax.pmean`s gradients, BatchNorm statistics and metrics. BatchNorm
  normalises with per-device statistics, as in the Flax ImageNet example.
- `sharded`: `jax.jit` with the batch sharded over a 1-D `"data"` mesh of all
  devices (every host's) and the state replicated; XLA inserts the
  reductions, so the maths is that of `single` on the global batch.

In every mode the global batch is the config's: each device's shard holds
`batch_size / num_devices` source and as many target examples. With several
processes each one passes only its rows of the global batch (drawn from its
own shard of the data, see `loop.training_streams`) and evaluates the state
on its shard (`local_state`).
"""

import dataclasses
import functools

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec
import numpy as np

from tljax.errors import ConfigError

MODES = ("single", "pmap", "sharded")
AXIS = "batch"


def check_divisible(mode: str, batch_size: int) -> None:
  devices = 1 if mode == "single" else jax.device_count()
  if batch_size % devices:
    raise ConfigError(
      f"config.data.batch_size={batch_size} does not divide by the {devices} devices "
      f"of config.parallel={mode!r}; use a multiple of {devices}"
    )


def process_rows(batch, process_index: int, process_count: int):
  """This process's contiguous slice of every array in a global batch."""

  def rows(x):
    n = x.shape[0] // process_count
    return x[process_index * n : (process_index + 1) * n]

  return jax.tree.map(rows, batch)


@dataclasses.dataclass
class Placement:
  """Puts state and batches where `mode` needs them and compiles the step."""

  mode: str

  def __post_init__(self):
    if self.mode not in MODES:
      raise ConfigError(f"config.parallel={self.mode!r} is unknown; choose one of {list(MODES)}")
    if self.mode == "sharded":
      self.mesh = Mesh(np.array(jax.devices()), ("data",))
      self.replicated = NamedSharding(self.mesh, PartitionSpec())
      self.data_sharded = NamedSharding(self.mesh, PartitionSpec("data"))

  def compile(self, step_fn):
    """`step_fn(state, batch, rng, *, axis_name=None)` -> compiled step."""
    if self.mode == "pmap":
      return jax.pmap(
        functools.partial(step_fn, axis_name=AXIS),
        axis_name=AXIS,
        in_axes=(0, 0, None),
        donate_argnums=(0,),
      )
    if self.mode == "sharded":
      return jax.jit(
        step_fn,
        in_shardings=(self.replicated, self.data_sharded, self.replicated),
        out_shardings=(self.replicated, self.replicated),
        donate_argnums=(0,),
      )
    return jax.jit(step_fn, donate_argnums=(0,))

  def put_state(self, state):
    if self.mode == "pmap":  # A copy per local device along a leading axis.
      devices = jax.local_devices()
      stacked = NamedSharding(Mesh(np.array(devices), (AXIS,)), PartitionSpec(AXIS))
      copies = lambda x: np.broadcast_to(np.asarray(x), (len(devices), *np.shape(x)))
      return jax.device_put(jax.tree.map(copies, state), stacked)
    if self.mode == "sharded":
      return jax.device_put(state, self.replicated)
    return state

  def put_batch(self, local_batch):
    """This process's rows of the global batch -> the step's batch argument."""
    if self.mode == "pmap":
      d = jax.local_device_count()
      return jax.tree.map(lambda x: x.reshape(d, x.shape[0] // d, *x.shape[1:]), local_batch)
    if self.mode == "sharded":
      return jax.tree.map(
        lambda x: jax.make_array_from_process_local_data(self.data_sharded, x), local_batch
      )
    return local_batch

  def host_state(self, state):
    """One copy of the state, for checkpoints (global arrays under multi-process `sharded`)."""
    if self.mode == "pmap":
      return jax.tree.map(_first_replica, state)
    return state

  def local_state(self, state):
    """This process's copy of the state, for evaluating on its own shard of the data."""
    if self.mode == "sharded" and jax.process_count() > 1:
      return jax.tree.map(lambda x: x.addressable_data(0), state)
    return self.host_state(state)

  def metrics(self, metrics):
    """Metrics as scalars (pmap returns one identical copy per device)."""
    if self.mode == "pmap":
      return jax.tree.map(_first_replica, metrics)
    return metrics


def _first_replica(x: jax.Array) -> jax.Array:
  return x.addressable_data(0).reshape(x.shape[1:])

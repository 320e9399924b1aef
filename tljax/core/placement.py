"""Data-parallel placement of one pure train step: single, per-device or sharded jit.

- `single`: `jax.jit` on the default device.
- `per_device`: `jax.shard_map` under `jax.jit` over a 1-D mesh of the local
  devices: each device runs the step on its rows of the batch with
  `axis_name="batch"`, so BatchNorm normalises with per-device statistics and
  each device draws its own augmentation (its rng folded with the device
  index), and the step `lax.pmean`s gradients, BatchNorm statistics and
  metrics, as in the Flax ImageNet example. The state stays one replicated
  array (no leading device axis), so checkpoints are those of `single`.
  (This is what `jax.pmap` did; JAX keeps pmap in maintenance mode.)
- `sharded`: `jax.jit` with the batch sharded over a 1-D `"data"` mesh of all
  devices (every host's) and the state replicated; XLA inserts the
  reductions, so the maths is that of `single` on the global batch.

In every mode the global batch is the config's: each device's shard holds
`batch_size / num_devices` source and as many target examples. With several
processes each one passes only its rows of the global batch (drawn from its
own shard of the data, see `splits.training_streams`) and evaluates the state
on its shard (`local_state`).

On a host platform (XLA:CPU) a step with collectives runs as one thread per
device that meet at each collective; `max_in_flight` is how many such steps
the loop may have dispatched and not finished (see `tljax.run.loop`).
"""

import dataclasses
import functools

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec
import numpy as np

from tljax.errors import ConfigError

MODES = ("single", "per_device", "sharded")
RENAMED = {"pmap": "per_device"}  # Modes renamed since, for a one-line error.
AXIS = "batch"
HOST_IN_FLIGHT = 2  # Steps with collectives dispatched ahead on a host platform (see above).


def check_mode(mode: str) -> None:
  if mode in RENAMED:
    raise ConfigError(
      f"config.parallel={mode!r} is now {RENAMED[mode]!r} (shard_map under jit, the same "
      "maths: per-device BatchNorm statistics and augmentation); use that name"
    )
  if mode not in MODES:
    raise ConfigError(f"config.parallel={mode!r} is unknown; choose one of {list(MODES)}")


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
    check_mode(self.mode)
    if self.mode == "sharded":
      self.mesh = Mesh(np.array(jax.devices()), ("data",))
      self.replicated = NamedSharding(self.mesh, PartitionSpec())
      self.data_sharded = NamedSharding(self.mesh, PartitionSpec("data"))
    if self.mode == "per_device":
      self.mesh = Mesh(np.array(jax.local_devices()), (AXIS,))
      self.replicated = NamedSharding(self.mesh, PartitionSpec())
      self.data_sharded = NamedSharding(self.mesh, PartitionSpec(AXIS))

  @property
  def max_in_flight(self) -> int | None:
    """Steps the loop may dispatch ahead of the finished ones (None: no bound).

    Bounded only where the step has collectives on a host platform: there the
    devices are threads meeting at each collective, and many queued steps can
    starve a rendezvous on few cores. GPUs and TPUs keep the whole queue.
    """
    if self.mode == "single" or jax.device_count() == 1:
      return None
    return HOST_IN_FLIGHT if jax.default_backend() == "cpu" else None

  def compile(self, step_fn):
    """`step_fn(state, batch, rng, *, axis_name=None)` -> compiled step."""
    if self.mode == "per_device":
      per_device = jax.shard_map(
        functools.partial(step_fn, axis_name=AXIS),
        mesh=self.mesh,
        in_specs=(PartitionSpec(), PartitionSpec(AXIS), PartitionSpec()),
        out_specs=(PartitionSpec(), PartitionSpec()),
        check_vma=False,  # The pmeans make state and metrics equal on every device.
      )
      return jax.jit(per_device, donate_argnums=(0,))
    if self.mode == "sharded":
      return jax.jit(
        step_fn,
        in_shardings=(self.replicated, self.data_sharded, self.replicated),
        out_shardings=(self.replicated, self.replicated),
        donate_argnums=(0,),
      )
    return jax.jit(step_fn, donate_argnums=(0,))

  def put_state(self, state):
    if self.mode in ("sharded", "per_device"):
      return jax.device_put(state, self.replicated)
    return state

  def put_batch(self, local_batch):
    """This process's rows of the global batch -> the step's batch argument."""
    if self.mode == "per_device":
      return jax.device_put(local_batch, self.data_sharded)
    if self.mode == "sharded":
      return jax.tree.map(
        lambda x: jax.make_array_from_process_local_data(self.data_sharded, x), local_batch
      )
    return local_batch

  def local_state(self, state):
    """This process's copy of the state, for evaluating on its own shard of the data."""
    if self.mode == "sharded" and jax.process_count() > 1:
      return jax.tree.map(lambda x: x.addressable_data(0), state)
    return state

"""The streams a method reads, and their batches: infinite seeded streams, zipped per step.

Stream names: SOURCE (labelled source: "input", "label"), TARGET (unlabelled
target: "input" only) and TARGET_LABELLED (labelled target: the oracle and
fine-tuning). A method declares the streams it reads (`Method.streams`).

Example `i` of a stream's infinite sequence is example `perm_e[i % n]` of its
split, with a fresh permutation `perm_e` for each epoch `e = i // n` drawn from
(seed, e). Streamed images (`images.FileImages`) draw their random crops from
(seed, step) too. The batch for a step is therefore a pure function of the
step, so a run resumed at step `s` sees exactly the batches it would have seen.

Several source domains (`tljax.data.domains`): the source stream is a
`DomainStream`, an equal share of each batch from every domain, each share
drawn as above from that domain's own permutations.

The pipeline is grain's (`batches`, `eval_batches`): a `grain.MapDataset`
over steps (or evaluation batches) whose elements are read on grain's worker
threads, ahead of the step that needs them, when images are decoded from
files. Its iterator's checkpointable state is the next step
(`{"next_index": step}`), which the train state's checkpoint already holds:
a resumed run sets it from the restored step rather than saving it twice.
The permutations are numpy's and not grain's `shuffle`, so the batches (and
every committed result) are those tljax drew before it used grain.
"""

import sys
import threading
from typing import Iterator

import grain
import numpy as np

from tljax.data import images

SOURCE, TARGET, TARGET_LABELLED = "source", "target", "target_labelled"
LABELLED = {SOURCE: True, TARGET: False, TARGET_LABELLED: True}  # Whether batches carry labels.


class Stream:
  """Batches of an in-memory split in seeded per-epoch random order.

  With several processes each one streams its own shard of the split
  (`shard` = process index), with its own permutations, and yields its rows of
  the global batch; `shard=None` is the single-process stream. `batch` may
  be called from several threads at once (grain's readers): the epochs'
  permutations are cached under a lock.
  """

  def __init__(
    self,
    arrays: dict[str, np.ndarray],
    batch_size: int,
    seed: int,
    shard: int | None = None,
    domain: int | None = None,
  ):
    self.arrays = arrays
    self.batch_size = batch_size
    self.key = [seed] if shard is None else [seed, shard]
    if domain is not None:  # One domain's part of a `DomainStream`: its own permutations.
      self.key += [_DOMAIN_KEY, domain]
    self.size = len(next(iter(arrays.values())))
    self._orders: dict[int, np.ndarray] = {}  # epoch -> permutation (the newest few).
    self._lock = threading.Lock()

  def _order(self, epoch: int) -> np.ndarray:
    with self._lock:
      order = self._orders.get(epoch)
      if order is None:
        order = np.random.default_rng([*self.key, epoch]).permutation(self.size)
        self._orders = {e: o for e, o in self._orders.items() if e >= epoch - 2}
        self._orders[epoch] = order
      return order

  def batch(self, step: int) -> dict[str, np.ndarray]:
    """The batch a run uses at `step`."""
    positions = np.arange(step * self.batch_size, (step + 1) * self.batch_size)
    idx = np.concatenate(
      [
        self._order(int(e))[positions[positions // self.size == e] % self.size]
        for e in np.unique(positions // self.size)
      ]
    )
    crops = np.random.default_rng([*self.key, step, 7]) if self.streamed else None
    return {k: images.read(v, idx, crops) for k, v in self.arrays.items()}

  @property
  def streamed(self) -> bool:
    """True when images are decoded from files per batch (`images.FileImages`)."""
    return any(isinstance(v, images.FileImages) for v in self.arrays.values())


_DOMAIN_KEY = 104  # Marks a domain's stream in its seed key (a constant, so orders are fixed).


class DomainStream:
  """A `Stream` over several domains' pooled arrays ("domain" numbers them): each batch holds
  `batch_size / domains` examples of every domain, in domain order, each domain drawn from its own
  seeded per-epoch permutations, so a batch is a pure function of the step, as `Stream`'s."""

  def __init__(
    self, arrays: dict[str, np.ndarray], batch_size: int, seed: int, shard: int | None = None
  ):
    count = int(arrays["domain"].max()) + 1
    if batch_size % count:
      raise ValueError(f"batch size {batch_size} does not divide into {count} domains")
    self.arrays, self.batch_size = arrays, batch_size
    self.size = len(arrays["domain"])
    self.parts = [
      Stream(
        {k: v[np.flatnonzero(arrays["domain"] == d)] for k, v in arrays.items()},
        batch_size // count,
        seed,
        shard,
        domain=d,
      )
      for d in range(count)
    ]

  def batch(self, step: int) -> dict[str, np.ndarray]:
    parts = [part.batch(step) for part in self.parts]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

  @property
  def streamed(self) -> bool:
    return any(part.streamed for part in self.parts)


def _read_options(streamed: bool) -> grain.ReadOptions:
  """Worker threads only where a batch decodes files; in-memory batches are a numpy gather."""
  if not streamed:
    return grain.ReadOptions(num_threads=0, prefetch_buffer_size=0)
  return grain.ReadOptions(num_threads=images.decode_threads(), prefetch_buffer_size=4)


class _StepBatch:
  """A grain map: step -> {name: that stream's batch}."""

  def __init__(self, streams: dict[str, "Stream"]):
    self.streams = streams

  def __call__(self, step: int) -> dict:
    return {name: stream.batch(int(step)) for name, stream in self.streams.items()}


def batches(streams: dict[str, Stream], start_step: int = 0) -> Iterator[dict]:
  """`{name: that stream's batch}` for each step from `start_step` (a grain iterator)."""
  streamed = any(stream.streamed for stream in streams.values())
  steps = grain.MapDataset.range(0, sys.maxsize).map(_StepBatch(streams))
  iterator = iter(steps.to_iter_dataset(_read_options(streamed)))
  iterator.set_state({"next_index": start_step})
  return iterator


class _EvalBatch:
  """A grain map: batch number -> that fixed-size batch of the split, padded, with its mask."""

  def __init__(self, arrays: dict, batch_size: int):
    self.arrays, self.batch_size = arrays, batch_size
    self.size = len(next(iter(arrays.values())))

  def __call__(self, number: int) -> dict:
    start = int(number) * self.batch_size
    stop = min(start + self.batch_size, self.size)
    pad = self.batch_size - (stop - start)
    batch = {k: np.asarray(v[start:stop]) for k, v in self.arrays.items()}
    batch = {k: np.concatenate([v, np.repeat(v[-1:], pad, 0)]) for k, v in batch.items()}
    batch["mask"] = np.concatenate([np.ones(stop - start), np.zeros(pad)]).astype(np.float32)
    return batch


def eval_batches(arrays: dict[str, np.ndarray], batch_size: int) -> Iterator[dict]:
  """Fixed-size batches covering the split once; padding rows have mask 0.

  Streamed images are decoded batch by batch (never the whole split), a few
  batches ahead on grain's threads.
  """
  read = _EvalBatch(arrays, batch_size)
  count = -(-read.size // batch_size)
  streamed = any(isinstance(v, images.FileImages) for v in arrays.values())
  return iter(grain.MapDataset.range(count).map(read).to_iter_dataset(_read_options(streamed)))

"""The streams a method reads, and their batches: infinite seeded streams, zipped per step.

Stream names: SOURCE (labelled source: "input", "label"), TARGET (unlabelled
target: "input" only) and TARGET_LABELLED (labelled target: the oracle and
fine-tuning). A method declares the streams it reads (`Method.streams`).

Streamed images (`images.FileImages`) draw their random crops from
(seed, step) too.

Example `i` of a stream's infinite sequence is example `perm_e[i % n]` of its
split, with a fresh permutation `perm_e` for each epoch `e = i // n` drawn from
(seed, e). The batch for a step is therefore a pure function of the step, so a
run resumed at step `s` sees exactly the batches it would have seen.
"""

import collections
import concurrent.futures
from typing import Iterator

import numpy as np

from tljax.data import images

SOURCE, TARGET, TARGET_LABELLED = "source", "target", "target_labelled"
LABELLED = {SOURCE: True, TARGET: False, TARGET_LABELLED: True}  # Whether batches carry labels.


class Stream:
  """Batches of an in-memory split in seeded per-epoch random order.

  With several processes each one streams its own shard of the split
  (`shard` = process index), with its own permutations, and yields its rows of
  the global batch; `shard=None` is the single-process stream.
  """

  def __init__(
    self, arrays: dict[str, np.ndarray], batch_size: int, seed: int, shard: int | None = None
  ):
    self.arrays = arrays
    self.batch_size = batch_size
    self.key = [seed] if shard is None else [seed, shard]
    self.size = len(next(iter(arrays.values())))
    self._epoch, self._perm = -1, None

  def _order(self, epoch: int) -> np.ndarray:
    if epoch != self._epoch:
      self._epoch = epoch
      self._perm = np.random.default_rng([*self.key, epoch]).permutation(self.size)
    return self._perm

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


def batches(streams: dict[str, Stream], start_step: int = 0, prefetch: int = 2) -> Iterator[dict]:
  """Yields `{name: that stream's batch}` for each step from `start_step`.

  Streamed images are read `prefetch` steps ahead on a host thread; each
  batch is still the pure function of its step that `Stream.batch` is.
  """
  step = start_step
  make = lambda s: {name: stream.batch(s) for name, stream in streams.items()}  # noqa: E731
  if not any(stream.streamed for stream in streams.values()):
    while True:
      yield make(step)
      step += 1
  with concurrent.futures.ThreadPoolExecutor(1, "tljax-prefetch") as ahead:
    pending = collections.deque(ahead.submit(make, step + i) for i in range(prefetch))
    while True:
      pending.append(ahead.submit(make, step + len(pending)))
      yield pending.popleft().result()
      step += 1


def eval_batches(arrays: dict[str, np.ndarray], batch_size: int) -> Iterator[dict]:
  """Fixed-size batches covering the split once; padding rows have mask 0."""
  n = len(next(iter(arrays.values())))
  for start in range(0, n, batch_size):
    stop = min(start + batch_size, n)
    pad = batch_size - (stop - start)
    batch = {k: np.asarray(v[start:stop]) for k, v in arrays.items()}
    batch = {k: np.concatenate([v, np.repeat(v[-1:], pad, 0)]) for k, v in batch.items()}
    batch["mask"] = np.concatenate([np.ones(stop - start), np.zeros(pad)]).astype(np.float32)
    yield batch

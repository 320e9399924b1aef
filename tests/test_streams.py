import numpy as np

from tljax.data import images
from tljax.data import streams as streams_lib


def _arrays(n=10):
  return {"input": np.arange(n)[:, None], "label": np.arange(n) % 3}


def test_each_epoch_visits_every_example_once():
  stream = streams_lib.Stream(_arrays(10), batch_size=5, seed=0)
  epoch0 = np.concatenate([stream.batch(s)["input"][:, 0] for s in (0, 1)])
  epoch1 = np.concatenate([stream.batch(s)["input"][:, 0] for s in (2, 3)])
  assert sorted(epoch0) == sorted(epoch1) == list(range(10))
  assert not np.array_equal(epoch0, epoch1)  # Reshuffled each epoch.


def test_batch_is_a_function_of_the_step_so_resume_is_exact():
  a = streams_lib.Stream(_arrays(7), batch_size=3, seed=4)
  b = streams_lib.Stream(_arrays(7), batch_size=3, seed=4)
  from_start = [a.batch(s)["input"] for s in range(6)]
  resumed = [b.batch(s)["input"] for s in (5, 3, 4)]  # Any order.
  np.testing.assert_array_equal(resumed[0], from_start[5])
  np.testing.assert_array_equal(resumed[1], from_start[3])


def test_batches_hold_each_streams_batch_of_the_step():
  source = streams_lib.Stream(_arrays(), 4, seed=0)
  target = streams_lib.Stream({"input": _arrays()["input"]}, 4, seed=1)
  batch = next(streams_lib.batches({"source": source, "target": target}, start_step=2))
  assert set(batch) == {"source", "target"} and set(batch["target"]) == {"input"}
  np.testing.assert_array_equal(batch["source"]["label"], source.batch(2)["label"])
  np.testing.assert_array_equal(batch["target"]["input"], target.batch(2)["input"])


def test_eval_batches_cover_the_split_once_with_a_mask():
  batches = list(streams_lib.eval_batches(_arrays(7), batch_size=3))
  assert [b["mask"].sum() for b in batches] == [3, 3, 1]
  seen = np.concatenate([b["input"][b["mask"] > 0, 0] for b in batches])
  np.testing.assert_array_equal(seen, np.arange(7))


def test_match_channels_repeats_gray():
  gray = np.zeros((2, 4, 4, 1), np.uint8)
  assert images.match_channels(gray, 3).shape == (2, 4, 4, 3)


def test_process_shards_have_their_own_order_and_the_single_stream_is_unchanged():
  arrays = {"x": np.arange(20)}
  single = streams_lib.Stream(arrays, 5, seed=3)
  expected = np.random.default_rng([3, 0]).permutation(20)[:5]  # Epoch 0 of seed 3.
  np.testing.assert_array_equal(single.batch(0)["x"], expected)
  shard0 = streams_lib.Stream(arrays, 5, seed=3, shard=0).batch(0)["x"]
  shard1 = streams_lib.Stream(arrays, 5, seed=3, shard=1).batch(0)["x"]
  assert not np.array_equal(shard0, shard1)


def test_each_process_reads_its_own_part_of_a_split(data_dir):
  from tljax.data import pipeline  # pylint: disable=g-import-not-at-top

  whole = pipeline.load_split("digits", "test", data_dir=data_dir)
  parts = [pipeline.load_split("digits", "test", data_dir=data_dir, shard=(i, 2)) for i in (0, 1)]
  assert [len(p["label"]) for p in parts] == [150, 150]
  for key in ("input", "label"):
    np.testing.assert_array_equal(np.concatenate([p[key] for p in parts]), whole[key])


def test_the_grain_iterator_state_is_the_next_step_and_resumes_exactly():
  streams = {"source": streams_lib.Stream(_arrays(7), 3, seed=4)}
  whole = streams_lib.batches(streams)
  first = [next(whole)["source"]["input"] for _ in range(5)]
  assert whole.get_state() == {"next_index": 5}  # What a checkpoint at step 5 must restore.
  resumed = streams_lib.batches(streams, start_step=3)
  np.testing.assert_array_equal(next(resumed)["source"]["input"], first[3])
  np.testing.assert_array_equal(next(resumed)["source"]["input"], first[4])
  again = streams_lib.batches(streams)
  again.set_state(whole.get_state())
  np.testing.assert_array_equal(next(again)["source"]["input"], next(whole)["source"]["input"])


def test_batches_read_by_many_threads_at_once_are_the_steps_batches():
  """grain's readers call `Stream.batch` concurrently, across epochs: each batch stays exact."""
  import concurrent.futures  # pylint: disable=g-import-not-at-top

  arrays = {"x": np.arange(7)}
  reference = [streams_lib.Stream(arrays, 3, seed=4).batch(s)["x"] for s in range(300)]
  shared = streams_lib.Stream(arrays, 3, seed=4)
  with concurrent.futures.ThreadPoolExecutor(8) as pool:
    got = list(pool.map(lambda s: shared.batch(s)["x"], list(range(300)) * 8))
  for i, batch in enumerate(got):
    np.testing.assert_array_equal(batch, reference[i % 300])

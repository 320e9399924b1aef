"""Several seeds in one program train as each seed alone (benchmarks.bench_seeds)."""

import jax
import numpy as np
import pytest

from benchmarks import bench_seeds


@pytest.mark.parametrize("method", ["dann", "mcd"])  # The default update, and MCD's own.
def test_each_seed_in_one_program_matches_that_seed_alone(tiny_config, method):
  """Bit for bit sequential and unrolled; to float rounding vectorised."""
  tiny_config.method.name = method
  tiny_config.data.image_size = 12
  seeds = bench_seeds.SeedSteps(tiny_config, 3)
  weights = [sum(float(np.abs(x).sum()) for x in jax.tree.leaves(s.params)) for s in seeds.states]
  assert len(set(weights)) == 3  # Each seed its own initial weights.
  difference = bench_seeds.check(seeds, steps=2)  # Different seeds, same maths.
  assert difference["sequential"] == difference["unrolled"] == 0.0
  assert difference["vmap"] < 1e-4


def test_the_largest_difference_is_relative_to_each_leaf():
  alone = [{"w": np.array([2.0, -4.0]), "n": np.array([3])}]
  together = [{"w": np.array([2.0, -3.0]), "n": np.array([9])}]  # Integer leaves are skipped.
  assert bench_seeds.largest_difference(alone, together) == pytest.approx(0.25)


def test_the_wider_batch_step_is_timed_on_seeds_times_the_batch(tiny_config):
  """The bound beside the programs: one seed's step on N x the batch, and its ratios to one
  seed's step computed from the medians the file reports."""
  tiny_config.data.image_size = 12
  r = bench_seeds.measure(tiny_config, 2, 2, 1, 1, 1, programs=("sequential",))
  assert list(r["programs"]) == ["sequential"]
  wide, one = r["wider_batch"], r["one_seed_seconds_per_step"]["median"]
  assert wide["batch_size_per_domain"] == 2 * tiny_config.data.batch_size
  t = wide["seconds_per_step"]["median"]
  assert wide["times_one_seed"] == pytest.approx(t / one, rel=1e-2)
  assert wide["speedup"] == pytest.approx(2 * one / t, rel=1e-2)

"""Several seeds in one process and one compiled program (config.train.num_seeds)."""

import json

import jax
import numpy as np
import pytest

from tests import helpers
from tljax.errors import ConfigError
from tljax.run import loop, seeds


def _read(path):
  with open(path) as f:
    return json.load(f)


def _params(config, workdir):
  return jax.tree.leaves(helpers.final_state(config, workdir)[0].params)


def test_two_seeds_in_one_program_train_as_two_separate_runs(tiny_config, tmp_path):
  """Seed 1 of a two-seed program ends where seed 1 trained alone does, bit for bit in the
  CPU's default program (sequential; the unrolled program's step is bit for bit too, the vmap
  program's to float rounding: tests/test_bench_seeds.py); a root where seed 1 has finished
  already trains only seed 0."""
  tiny_config.data.random_shift = 1  # Each seed draws its own shifts: keys must stay apart.
  tiny_config.train.num_seeds = 2
  together = seeds.train_and_evaluate(tiny_config, str(tmp_path / "together"))
  alone_config = tiny_config.copy_and_resolve_references()
  alone_config.seed, alone_config.train.num_seeds = 1, 1
  alone = loop.train_and_evaluate(alone_config, str(tmp_path / "later" / "seed=1"))
  workdir = tmp_path / "together" / "seed=1"
  stored = _read(workdir / "config.json")
  assert (stored["seed"], stored["train"]["num_seeds"]) == (1, 1)  # A single run's layout.
  assert _read(workdir / "results.json")["seed"] == 1 == together[1]["seed"]
  assert together[1]["steps"] == alone["steps"] == tiny_config.train.num_steps
  theirs = _params(alone_config, tmp_path / "later" / "seed=1")
  for a, b in zip(_params(alone_config, workdir), theirs):
    np.testing.assert_array_equal(a, b)
  assert together[1]["final"] == alone["final"]
  first = [_params(tiny_config, tmp_path / "together" / f"seed={s}")[-1] for s in (0, 1)]
  assert not np.allclose(*first)  # Two seeds, two runs.

  # Seeds at different steps train one by one: seed 1 is finished in "later", seed 0 is not.
  results = seeds.train_and_evaluate(tiny_config, str(tmp_path / "later"))
  assert [r["seed"] for r in results] == [0, 1]
  assert _read(tmp_path / "later" / "seed=0" / "results.json")["seed"] == 0


def test_several_seeds_need_one_device_placement(tiny_config):
  tiny_config.train.num_seeds, tiny_config.parallel = 3, "sharded"
  with pytest.raises(ConfigError, match="num_seeds=3 trains the seeds in one program on one"):
    seeds.check(tiny_config)
  tiny_config.train.num_seeds = 0
  with pytest.raises(ConfigError, match="num_seeds=0 must be an integer >= 1"):
    seeds.check(tiny_config)
  with pytest.raises(ConfigError, match="seeds_program='grouped' is not one of"):
    seeds.seeds_step(lambda *a: a, "grouped")


def test_a_vectorised_sweep_writes_the_layout_of_the_plain_one(tiny_config, tmp_path):
  from tljax.run import sweep  # pylint: disable=g-import-not-at-top

  grid = sweep.parse_grid(["method.name=source_only,dann", "seed=0,1,2"], tiny_config)
  groups = list(sweep.vectorised_points(tiny_config, grid))
  assert [(n, p.seed, p.train.num_seeds, d) for n, p, d in groups] == [
    ("method.name=source_only", 0, 3, ["seed=0", "seed=1", "seed=2"]),
    ("method.name=dann", 0, 3, ["seed=0", "seed=1", "seed=2"]),
  ]
  plain = [name for name, _ in sweep.points(tiny_config, grid)]
  assert plain == [f"{n}/{d}" for n, _, ds in groups for d in ds]
  with pytest.raises(ConfigError, match="consecutive seeds"):
    list(sweep.vectorised_points(tiny_config, sweep.parse_grid(["seed=0,2"], tiny_config)))
  with pytest.raises(ConfigError, match="as the last --grid"):
    list(sweep.vectorised_points(tiny_config, sweep.parse_grid(
      ["seed=0,1", "method.name=dann"], tiny_config)))  # fmt: skip

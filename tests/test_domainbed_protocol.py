"""DomainBed's protocol: the network, hyperparameter trials, selection rules, the sweep driver."""

import json
import os

import jax
import numpy as np
import pytest

from configs import domainbed_mnist
from tests import helpers
from tests.test_domains import mnist_files  # noqa: F401  (the fixture)
from tljax import core, methods, models
from tljax.analysis import domainbed as domainbed_lib
from tljax.analysis import runs as runs_lib
from tljax.errors import ConfigError
from tljax.run import domainbed as driver
from tljax.run import loop, trials

ENVS = ["e/0", "e/1"]


def test_domainbeds_mnist_network_has_its_parameter_count():
  """By hand: conv 3x3 1->64 (640) + GN (128), 64->128 (73,856) + GN (256), twice 128->128
  (147,584) + GN (256): 370,560 for one-channel input; 128 features."""
  config = domainbed_mnist.get_config("rotated,domainbed")
  classifier = models.build_classifier(config.model, 10)
  x = np.zeros((2, 28, 28, 1), np.uint8)
  variables = jax.eval_shape(lambda: classifier.init(jax.random.key(0), x, train=False))
  backbone = variables["params"]["backbone"]
  assert sum(int(np.prod(v.shape)) for v in jax.tree.leaves(backbone)) == 370_560
  logits, features = jax.eval_shape(lambda: classifier.apply(
    classifier.init(jax.random.key(0), x, train=False), x, train=False))  # fmt: skip
  assert features.shape == (2, 128) and logits.shape == (2, 10)


def test_leave_one_out_splits_the_environments():
  config = domainbed_mnist.get_config("colored,test=1")
  assert config.data.target == "colored_mnist/plus80"
  assert config.data.source == "colored_mnist/plus90,colored_mnist/minus90"
  assert config.data.batch_size == 64 and config.data.source_val_size == 400
  with pytest.raises(ConfigError, match="test environment 6 must be one of 0..5"):
    domainbed_mnist.get_config("rotated,test=6")


def test_trial_zero_is_the_defaults_and_later_trials_draw_in_domainbeds_ranges():
  assert trials.overrides("irm", 0) == {}
  drawn = [trials.overrides("irm", t) for t in range(1, 40)]
  assert drawn[0] == trials.overrides("irm", 1)  # Seeded by (method, trial).
  assert len({d["optim.lr"] for d in drawn}) == len(drawn)
  for d in drawn:
    assert 10**-4.5 <= d["optim.lr"] <= 10**-2.5  # DomainBed's range around Adam's 1e-3.
    assert 10**-1 <= d["method.irm.penalty_weight"] <= 10**5
    assert 1 <= d["method.irm.anneal_steps"] <= 10**4 and isinstance(
      d["method.irm.anneal_steps"], int
    )
  assert set(trials.overrides("source_only", 3)) == {"optim.lr"}
  scaled = trials.overrides("irm", 1, lr=0.01)  # Another recipe's rate: the same draw, scaled.
  assert scaled["optim.lr"] == pytest.approx(10 * drawn[0]["optim.lr"])
  assert scaled["method.irm.penalty_weight"] == drawn[0]["method.irm.penalty_weight"]


def test_every_searched_setting_is_a_setting_of_its_method():
  for name in methods.names():
    cls = methods.find(name)
    assert set(cls.searched) <= set(core.settings(cls)), name


def _write(root, name, **fields):
  path = os.path.join(root, name)
  os.makedirs(path)
  with open(os.path.join(path, "results.json"), "w") as f:
    json.dump(helpers.results(**fields), f)


def test_each_rule_picks_its_trial_and_the_oracle_never_enters_the_other(tmp_path):
  """Per (method, environment, seed): trial 0 has the lower source error, trial 1 the higher
  target-val accuracy; their test accuracies tell which trial a table shows."""
  for env_i, env in enumerate(ENVS):
    for seed in (0, 1):
      for trial, (risk, val, acc) in enumerate([(0.1, 0.5, 0.6 + env_i / 10), (0.3, 0.9, 0.2)]):
        _write(tmp_path, f"{env}/t{trial}/s{seed}", method="erm", seed=seed, acc=acc + seed / 100,
               source="x,y", target=env, target_val_accuracy=val,
               validators={"source_risk": risk})  # fmt: skip
  found = runs_lib.find([str(tmp_path)])
  training = domainbed_lib.picks(found, "training-domain validation")
  oracle = domainbed_lib.picks(found, "test-domain validation (oracle)")
  assert {r.path.split("/")[-2] for r in training.values()} == {"t0"}
  assert {r.path.split("/")[-2] for r in oracle.values()} == {"t1"}
  table = domainbed_lib.table(training, ENVS)
  # Environment 0: 60.0 and 61.0 -> 60.5 ± 0.7; environment 1: 70.5 ± 0.7; average 65.5.
  assert "| `erm` | 60.5 ± 0.7 (2) | 70.5 ± 0.7 (2) | 65.5 |" in table
  assert "| `erm` | 20.5 ± 0.7 (2) | 20.5 ± 0.7 (2) | 20.5 |" in domainbed_lib.table(oracle, ENVS)


def test_weight_averaged_runs_of_a_method_are_their_own_algorithm(tmp_path):
  for average_from, acc in ((-1, 0.5), (500, 0.75)):
    config = {"method": {"name": "erm"}, "seed": 0, "train": {"average_from": average_from}}
    _write(tmp_path, f"avg{average_from}", method="erm", acc=acc, source="x,y", target="e/0",
           validators={"source_risk": 0.1}, config=config)  # fmt: skip
  chosen = domainbed_lib.picks(runs_lib.find([str(tmp_path)]), "training-domain validation")
  table = domainbed_lib.table(chosen, ["e/0"])
  assert "| `erm` | 50.0 (1) | 50.0 |" in table
  assert "| `erm + weight mean from step 500` | 75.0 (1) | 75.0 |" in table


def test_the_driver_trains_each_point_and_writes_both_tables(mnist_files, tmp_path):  # noqa: F811
  config = domainbed_mnist.get_config("colored,tiny")
  config.data.manual_dir, config.data.data_dir = str(mnist_files), str(tmp_path / "tfds")
  points = list(driver.points(config, ["source_only"], 2, [0], [2]))
  assert [name for name, _ in points] == [
    "test=2/method=source_only/trial=0/seed=0",
    "test=2/method=source_only/trial=1/seed=0",
  ]
  assert points[0][1].optim.lr == config.optim.lr != points[1][1].optim.lr
  for name, point in points:
    loop.train_and_evaluate(point, str(tmp_path / "runs" / name))
  text = driver.summarize(str(tmp_path / "runs"), config.data.environments.split(","))
  assert "**training-domain validation**" in text and "**test-domain validation (oracle)**" in text
  assert text.count("| `source_only` | – | – | ") == 2  # Only test environment 2 was run.


def test_single_source_baselines_stay_out_of_the_rules_and_get_their_own_table(tmp_path):
  envs = ["d/a", "d/b", "d/c"]
  for seed in (0, 1):  # Target d/c from a alone, b alone, and both pooled.
    _write(tmp_path, f"sa{seed}", method="source_only", seed=seed, acc=0.5 + seed / 10,
           source="d/a", target="d/c")  # fmt: skip
    _write(tmp_path, f"sb{seed}", method="source_only", seed=seed, acc=0.7, source="d/b",
           target="d/c")  # fmt: skip
    _write(tmp_path, f"ab{seed}", method="source_only", seed=seed, acc=0.9, source="d/a,d/b",
           target="d/c", target_val_accuracy=0.9, validators={"source_risk": 0.1})  # fmt: skip
  found = runs_lib.find([str(tmp_path)])
  chosen = domainbed_lib.picks(found, "training-domain validation")
  assert {r.results["source"] for r in chosen.values()} == {"d/a,d/b"}
  table = domainbed_lib.single_source_table(found, envs)
  assert "| `d/a` | – | – | 55.0 (2) |" in table and "| `d/b` | – | – | 70.0 (2) |" in table
  assert "| best single source (picked on target test) | – | – | 70.0 |" in table


def test_the_driver_adds_each_single_source_at_its_share_of_the_batch():
  config = domainbed_mnist.get_config("colored")
  points = dict(driver.points(config, ["irm"], 1, [0], [2], single_sources=True))
  single = points["test=2/single=colored_mnist_plus90/seed=0"]
  assert (single.data.source, single.data.target) == (
    "colored_mnist/plus90",
    "colored_mnist/minus90",
  )
  assert single.method.name == "source_only" and single.data.batch_size == 32
  assert "test=2/method=irm/trial=0/seed=0" in points and len(points) == 3


def test_leave_one_domain_out_picks_the_trial_best_on_the_held_out_training_domains(tmp_path):
  """Test environment e/2 of three; trial 0 scores (0.6, 0.8) on held-out e/0 and e/1 (mean
  0.7), trial 1 (0.9, 0.9): trial 1 is picked and its full run's test accuracy shown."""
  envs = ["e/0", "e/1", "e/2"]
  for trial, (held_accs, full_acc) in enumerate([((0.6, 0.8), 0.3), ((0.9, 0.9), 0.4)]):
    base = f"test=2/method=erm/trial={trial}"
    _write(tmp_path, f"{base}/seed=0", method="erm", acc=full_acc, source="e/0,e/1", target="e/2")
    for held, acc in enumerate(held_accs):
      _write(tmp_path, f"{base}/val={held}/seed=0", method="erm", acc=acc, source=f"e/{1 - held}",
             target=f"e/{held}")  # fmt: skip
  found = runs_lib.find([str(tmp_path)])
  chosen = domainbed_lib.lodo_picks(found)
  assert [r.path.split("/")[-2] for r in chosen.values()] == ["trial=1"]
  assert "| `erm` | – | – | 40.0 (1) | – |" in domainbed_lib.table(chosen, envs)
  # A trial missing one held-out run is no candidate; the held-out runs never enter the others.
  os.remove(os.path.join(tmp_path, "test=2/method=erm/trial=1/val=0/seed=0/results.json"))
  left = domainbed_lib.lodo_picks(runs_lib.find([str(tmp_path)]))
  assert [r.path.split("/")[-2] for r in left.values()] == ["trial=0"]
  assert all(
    "val=" not in r.path for r in domainbed_lib.picks(found, "training-domain validation").values()
  )


def test_the_driver_adds_a_held_out_run_per_training_environment():
  config = domainbed_mnist.get_config("colored")
  points = dict(driver.points(config, ["irm"], 1, [0], [2], lodo=True))
  held = points["test=2/method=irm/trial=0/val=0/seed=0"]
  assert (held.data.source, held.data.target) == ("colored_mnist/plus80", "colored_mnist/plus90")
  assert held.data.batch_size == 32 and len(points) == 3


def test_columns_name_configs_of_one_dataset_and_whole_names_across_datasets():
  assert domainbed_lib.columns(["rotated_mnist/0", "rotated_mnist/15"]) == ["0", "15"]
  mixed = ["mnist", "mnist_m/offline", "digits"]
  assert domainbed_lib.columns(mixed) == mixed

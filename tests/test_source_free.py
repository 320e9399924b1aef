"""Source-free adaptation: SHOT, SHOT-IM, NRC; a run that never opens the source data."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests import helpers
from tljax.data import pipeline
from tljax.errors import ConfigError
from tljax.losses import memory
from tljax.losses.entropy import information_maximisation
from tljax.methods import aad, nrc, shot
from tljax.run import finished as finished_run
from tljax.run import loop, validate


@pytest.fixture(scope="module")
def source_checkpoint(tmp_path_factory):
  """A saved source_only state of the tiny digits model: the start of every source-free run."""
  from configs import digits  # pylint: disable=g-import-not-at-top

  config = digits.get_config("tiny")
  return helpers.save_source_only(config, (28, 28, 3), 10, tmp_path_factory.mktemp("source"))


def test_a_source_free_run_never_opens_the_source_dataset(
  tiny_config, source_checkpoint, tmp_path, monkeypatch
):
  """NRC (SHOT and SHOT-IM take the same path: `Method.source_free`)."""
  read = pipeline.load

  def target_only(dataset, *args, **kwargs):
    if dataset == tiny_config.data.source:
      raise AssertionError(f"the source-free run opened the source dataset {dataset!r}")
    return read(dataset, *args, **kwargs)

  monkeypatch.setattr(pipeline, "load", target_only)
  tiny_config.method.name = "nrc"
  tiny_config.model.init_checkpoint = source_checkpoint
  results = loop.train_and_evaluate(tiny_config, str(tmp_path / "run"))
  assert results["steps"] == tiny_config.train.num_steps
  assert results["source_test_accuracy"] is None and "source_test" not in results["final"]
  assert 0.0 <= results["target_test_accuracy"] <= 1.0
  assert results["proxy_a_distance"]["features"] is None
  # Only the validators that read the target's inputs alone apply.
  assert set(results["validators"]) == {"entropy", "info_max"}
  # Analyses of the finished run (experiments.report, extract_features) do not open it either.
  _, state, data, _ = finished_run.load(str(tmp_path / "run"), results)
  assert data.source_free and int(state.step) == tiny_config.train.num_steps


def test_information_maximisation_and_its_gradient_on_a_hand_case():
  """Two examples, two classes, logits [a, 0] and [0, a]: the mean prediction is uniform, so
  H(mean) has zero gradient, and dL/da of the first is (1/2) dH(sigmoid(a))/da =
  -(1/2) a s (1 - s), s = sigmoid(a)."""
  a = 2.0

  def loss(logits):
    return information_maximisation(jax.nn.softmax(logits))[0]

  logits = jnp.array([[a, 0.0], [0.0, a]])
  s = 1 / (1 + np.exp(-a))
  h = -(s * np.log(s) + (1 - s) * np.log(1 - s))
  np.testing.assert_allclose(loss(logits), h - np.log(2), atol=1e-4)
  grad = jax.grad(loss)(logits)
  expected = -0.5 * a * s * (1 - s)
  np.testing.assert_allclose(grad[0], [expected, -expected], rtol=1e-3)
  np.testing.assert_allclose(grad[1], [-expected, expected], rtol=1e-3)


def test_shot_clusters_correct_a_prediction_that_disagrees_with_its_cluster():
  """Rows 0-2 sit at e1, rows 3-4 at e2; row 2 predicts class 1 like the e2 rows. The soft
  centroid of class 0 is at e1 and that of class 1 leans to e2, so row 2 is labelled 0."""
  features = memory.normalize(jnp.array([[1.0, 0], [1, 0.05], [1, -0.05], [0, 1], [0.05, 1]]))
  scores = jnp.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9], [0.1, 0.9]])
  labels = shot.pseudo_labels(features, scores, jnp.arange(5))
  np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1])
  # Classes named the other way round by the predictions: the labels follow them.
  swapped = shot.pseudo_labels(features, scores[:, ::-1], jnp.array([2, 4]))
  np.testing.assert_array_equal(swapped, [1, 0])


def test_nrc_neighbours_and_loss_on_a_hand_case():
  """Unit features at 0, 10, 90 and 100 degrees: 0 and 1 are each other's nearest (reciprocal,
  weight 1); with K = M = 1 the loss of row 0 is -<p, s_1> - r <p, s_0>."""
  angles = np.radians([0.0, 10.0, 90.0, 100.0])
  features = jnp.array(np.stack([np.cos(angles), np.sin(angles)], -1))
  np.testing.assert_array_equal(nrc.neighbours(features, features, 1)[:, 0], [1, 0, 3, 2])
  scores = jnp.array([[0.7, 0.3], [0.6, 0.4], [0.2, 0.8], [0.1, 0.9]])
  probs = jnp.array([[0.5, 0.5]])
  near, extended = nrc.nrc_loss(probs, jnp.array([0]), features, scores, 1, 1, 0.1)
  np.testing.assert_allclose(near, -(0.5 * 0.6 + 0.5 * 0.4), rtol=1e-6)
  np.testing.assert_allclose(extended, -0.1 * (0.5 * 0.7 + 0.5 * 0.3), rtol=1e-6)
  # A one-way neighbour gets the affinity r instead of 1: row 2 moved next to row 1 (at 12
  # degrees), row 1's nearest is now row 2, so row 0's nearest (row 1) is not reciprocal.
  angles = np.radians([0.0, 10.0, 12.0, 100.0])
  features = jnp.array(np.stack([np.cos(angles), np.sin(angles)], -1))
  near, _ = nrc.nrc_loss(probs, jnp.array([0]), features, scores, 1, 1, 0.1)
  np.testing.assert_allclose(near, -0.1 * (0.5 * 0.6 + 0.5 * 0.4), rtol=1e-6)


def test_aad_attraction_and_dispersion_on_a_hand_case():
  """The unit features of the NRC case (0, 10, 90, 100 degrees): with K = 1 row 0 attracts
  row 1's stored prediction, row 2 row 3's; the batch of rows 0 and 2 disperses <p_0, p_2>
  once from each side. d/dp_0 of the dispersion is p_2 (the other prediction is not held)."""
  angles = np.radians([0.0, 10.0, 90.0, 100.0])
  features = jnp.array(np.stack([np.cos(angles), np.sin(angles)], -1))
  scores = jnp.array([[0.7, 0.3], [0.6, 0.4], [0.2, 0.8], [0.1, 0.9]])
  probs = jnp.array([[0.5, 0.5], [0.3, 0.7]])
  rows = jnp.array([0, 2])
  attract, disperse = aad.aad_loss(probs, rows, features, scores, 1)
  np.testing.assert_allclose(attract, -((0.5 * 0.6 + 0.5 * 0.4) + (0.3 * 0.1 + 0.7 * 0.9)) / 2)
  np.testing.assert_allclose(disperse, (2 * (0.5 * 0.3 + 0.5 * 0.7)) / 2, rtol=1e-6)
  grad = jax.grad(lambda p: aad.aad_loss(p, rows, features, scores, 1)[1])(probs)
  np.testing.assert_allclose(grad, [[0.3, 0.7], [0.5, 0.5]], rtol=1e-6)  # (p_other + p_other)/2.


def test_the_memory_takes_every_device_rows_under_pmap():
  """Each of 2 devices writes its own rows; afterwards both memories hold all of them (the
  device axis as pmap names it, here mapped by vmap, which runs the same collectives)."""
  start = memory.initial(jnp.zeros((4, 3)), jnp.ones((4, 2)))
  logits = jnp.array([[[5.0, 0, 0]], [[0, 0, 5.0]]])  # [device, batch 1, classes].
  features = jnp.array([[[1.0, 0]], [[0, 1.0]]])
  index = jnp.array([[1], [3]])
  written = jax.vmap(lambda i, l, f: memory.write(start, i, l, f, "d"), axis_name="d")(
    index, logits, features
  )
  written = jax.tree.map(np.asarray, written)
  for device in range(2):
    np.testing.assert_allclose(written[memory.FEATURES][device][[1, 3]], [[1, 0], [0, 1]])
    np.testing.assert_allclose(written[memory.FEATURES][device][[0, 2]], np.full((2, 2), 0.5**0.5))
    assert int(np.argmax(written[memory.SCORES][device][3])) == 2
    assert int(np.argmax(written[memory.SCORES][device][1])) == 0
  alone = memory.write(start, index[0], logits[0], features[0])  # No device axis: own rows only.
  np.testing.assert_allclose(np.asarray(alone[memory.FEATURES])[3], [0.5**0.5, 0.5**0.5])


def test_a_source_free_method_on_text_is_a_config_error_naming_why():
  """The vocabulary is fitted per run, so a source-free run on text could not read the source
  network's inputs. (Without a checkpoint, and with label sets: tests/test_bad_input.py.)"""
  from configs import sentiment  # pylint: disable=g-import-not-at-top

  config = sentiment.get_config("tiny")
  config.method.name = "nrc"
  config.model.init_checkpoint = "/nonexistent/run"  # Refused before its existence is checked.
  with pytest.raises(ConfigError, match=r"'nrc' is source-free, and config.data.target=.* is text"):
    validate.validate_config(config)


def test_label_smoothing_of_shot_source_training_on_a_hand_case():
  """Two classes, logits [a, 0], label 0, smoothing e: the target is (1 - e/2, e/2), so the loss
  is -(1 - e/2) log s - (e/2) log(1 - s), s = sigmoid(a)."""
  from tljax.core.classification import cross_entropy  # pylint: disable=g-import-not-at-top

  a, e = 1.5, 0.1
  s = 1 / (1 + np.exp(-a))
  expected = -(1 - e / 2) * np.log(s) - (e / 2) * np.log(1 - s)
  got = cross_entropy(jnp.array([[a, 0.0]]), jnp.array([0]), smoothing=e)
  np.testing.assert_allclose(got, [expected], rtol=1e-6)
  np.testing.assert_allclose(
    cross_entropy(jnp.array([[a, 0.0]]), jnp.array([0])), [-np.log(s)], rtol=1e-6
  )


def test_weight_normalised_output_layer_and_its_scale_gradient_on_a_hand_case():
  """Kernel v = [[3], [4]] (|v| = 5), scale g = 10, bias 1, x = [1, 1]: y = 10 (3 + 4) / 5 + 1
  = 15, dy/dg = (3 + 4) / 5 = 1.4, dy/db = 1; at initialisation g = |v| (the plain Dense layer)."""
  from tljax.models.heads import WeightNormDense  # pylint: disable=g-import-not-at-top

  layer = WeightNormDense(1)
  fresh = layer.init(jax.random.key(0), jnp.ones((1, 2)))["params"]
  np.testing.assert_allclose(fresh["scale"], jnp.linalg.norm(fresh["kernel"], axis=0), rtol=1e-6)
  x = jnp.ones((1, 2))
  np.testing.assert_allclose(
    layer.apply({"params": fresh}, x), x @ fresh["kernel"] + fresh["bias"], rtol=1e-6
  )
  params = {"kernel": jnp.array([[3.0], [4.0]]), "scale": jnp.array([10.0]), "bias": jnp.ones(1)}
  y, grads = jax.value_and_grad(lambda p: layer.apply({"params": p}, x).sum())(params)
  np.testing.assert_allclose(y, 15.0, rtol=1e-6)
  np.testing.assert_allclose(grads["scale"], [1.4], rtol=1e-6)
  np.testing.assert_allclose(grads["bias"], [1.0], rtol=1e-6)
  # The kernel's direction only: scaling it changes nothing.
  scaled = {**params, "kernel": 7.0 * params["kernel"]}
  np.testing.assert_allclose(layer.apply({"params": scaled}, x), y[None, None], rtol=1e-6)


def test_shot_source_model_has_a_batch_norm_bottleneck_and_a_weight_normalised_output():
  """The `:shot` config: Dense-BatchNorm bottleneck without ReLU (negative features remain),
  weight-normalised output layer, which is what SHOT freezes; label smoothing 0.1."""
  from configs import digits  # pylint: disable=g-import-not-at-top
  from tljax import models  # pylint: disable=g-import-not-at-top
  from tljax.run import build  # pylint: disable=g-import-not-at-top

  config = digits.get_config("tiny,shot")
  assert config.method.source_only.label_smoothing == 0.1
  classifier = models.build_classifier(config.model, 10)
  images = jax.random.normal(jax.random.key(1), (16, 28, 28, 3))
  variables = classifier.init(jax.random.key(0), images, train=False)
  head = variables["params"]["head"]
  assert set(head) == {"Dense_0", "BatchNorm_0", "WeightNormDense_0"}
  assert head["Dense_0"]["kernel"].shape[1] == 256 and "bias" not in head["Dense_0"]
  assert set(variables["batch_stats"]["head"]) == {"BatchNorm_0"}
  features = classifier.apply(variables, images, train=False)[1]
  bottleneck = classifier.apply(variables, features, train=False, method="embed")
  assert bottleneck.shape == (16, 256) and float(bottleneck.min()) < 0.0  # No ReLU.
  names = [
    "classifier/head/" + "/".join(str(k.key) for k in path)
    for path, _ in jax.tree_util.tree_leaves_with_path(head)
  ]
  frozen = [n for n in names if re.search(build.output_layer(config.model), n)]
  assert sorted(frozen) == [
    "classifier/head/WeightNormDense_0/bias",
    "classifier/head/WeightNormDense_0/kernel",
    "classifier/head/WeightNormDense_0/scale",
  ]
  config.model.head_hidden = ()
  with pytest.raises(ConfigError, match=r"config.model.head='bottleneck' needs one"):
    models.build_classifier(config.model, 10)


def test_a_checkpoint_without_the_whole_classifier_is_refused(source_checkpoint):
  """The plain head's source run lacks the bottleneck head's BatchNorm and output layer: a
  source-free run would start from a fresh hypothesis, so build refuses it by name."""
  from configs import digits  # pylint: disable=g-import-not-at-top

  config = digits.get_config("tiny,shot")
  config.model.head_hidden = (100,)  # Its first layer's shape fits the plain head's.
  config.method.name = "shot"
  config.model.init_checkpoint = source_checkpoint
  with pytest.raises(ConfigError, match=r"'shot' adapts the source model, .* lacks \d+ of its"):
    helpers.built(config, (28, 28, 3), 10, np.random.default_rng(0))

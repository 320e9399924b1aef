"""LogME, LEEP, NCE and H-score against direct implementations of the papers' formulas."""

import numpy as np
from sklearn.datasets import make_classification

from tljax.analysis import transferability as tr


def _gaussian_log_evidence(f, y, alpha, beta):
  """log N(y; 0, I/beta + F F^T/alpha): the evidence LogME maximises, computed directly."""
  cov = np.eye(len(y)) / beta + f @ f.T / alpha
  _, logdet = np.linalg.slogdet(cov)
  return -0.5 * (y @ np.linalg.solve(cov, y) + logdet + len(y) * np.log(2 * np.pi))


def test_logme_evidence_is_the_gaussian_marginal_likelihood_at_its_maximum():
  rng = np.random.default_rng(0)
  for n, d in ((40, 5), (12, 30)):  # More examples than features, and fewer.
    f = rng.normal(size=(n, d))
    y = (f[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(float)
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    sigma = np.zeros(d)
    sigma[: len(s)] = s**2
    evidence, alpha, beta = tr._evidence(u, sigma, y, n, d, 200)
    np.testing.assert_allclose(evidence, _gaussian_log_evidence(f, y, alpha, beta), rtol=1e-8)
    if n < d:
      continue  # With fewer examples than features the evidence grows without bound in beta.
    for a, b in (
      (alpha * 1.5, beta),
      (alpha / 1.5, beta),
      (alpha, beta * 1.5),
      (alpha, beta / 1.5),
    ):
      assert _gaussian_log_evidence(f, y, a, b) < evidence  # A maximum in both precisions.


def test_logme_prefers_features_that_carry_the_labels():
  x, y = make_classification(200, n_features=10, n_informative=5, n_classes=3, random_state=0)
  noise = np.random.default_rng(0).normal(size=x.shape)
  assert tr.log_me(x, y) > tr.log_me(noise, y)
  assert tr.h_score(x, y) > tr.h_score(noise, y)


def _leep_loops(theta, labels):
  """LEEP as Nguyen et al. write it, one sum at a time."""
  n, z_count = theta.shape
  classes = sorted(set(labels))
  joint = {(y, z): sum(theta[i, z] for i in range(n) if labels[i] == y) / n
           for y in classes for z in range(z_count)}  # fmt: skip
  marginal = {z: sum(joint[y, z] for y in classes) for z in range(z_count)}
  total = 0.0
  for i in range(n):
    total += np.log(sum(joint[labels[i], z] / marginal[z] * theta[i, z] for z in range(z_count)))
  return total / n


def test_leep_and_nce_match_the_formulas_written_out():
  rng = np.random.default_rng(1)
  logits = rng.normal(size=(30, 4))
  theta = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
  labels = rng.integers(0, 3, 30)
  np.testing.assert_allclose(tr.leep(theta, labels), _leep_loops(theta, labels), rtol=1e-10)
  z = theta.argmax(1)
  h = 0.0  # H(Y|Z) = -sum P(y,z) log P(y|z)
  for y in set(labels):
    for zz in set(z):
      p_yz = np.mean((labels == y) & (z == zz))
      if p_yz:
        h -= p_yz * np.log(p_yz / np.mean(z == zz))
  np.testing.assert_allclose(tr.nce(theta, labels), -h, rtol=1e-10)
  perfect = np.eye(3)[labels]  # Source predictions that are the target labels.
  assert tr.nce(perfect, labels) == 0.0 and abs(tr.leep(perfect, labels)) < 1e-12


def test_rank_sources_scores_finished_runs_on_the_target(tiny_config, tmp_path):
  from tljax.run import (
    loop,  # pylint: disable=g-import-not-at-top
    source_ranking,  # pylint: disable=g-import-not-at-top
  )

  runs = []
  for steps in (3, 6):
    tiny_config.train.num_steps = steps
    loop.train_and_evaluate(tiny_config, str(tmp_path / f"steps{steps}"))
    runs.append(str(tmp_path / f"steps{steps}"))
  tiny_config.data.target = "digits_m"
  ranked = {run: source_ranking.score(run, "digits_m", "test", max_examples=100) for run in runs}
  for scores in ranked.values():
    assert scores["examples"] == 100
    assert all(np.isfinite(scores[name]) for name in tr.SCORES)
    assert scores["nce"] <= 0 and scores["leep"] < 0  # Log-probabilities.
  assert ranked[runs[0]]["logme"] != ranked[runs[1]]["logme"]  # Different models, other scores.
  assert "| candidate | logme | leep | nce | h_score |" in source_ranking.table(ranked)
  assert source_ranking.kendall_tau([1, 2, 3], [0.1, 0.2, 0.3]) == 1.0
  fake = {"a": {n: 1.0 for n in tr.SCORES}, "b": {n: 2.0 for n in tr.SCORES}}
  checked = source_ranking.validate(fake, {"a": 0.9, "b": 0.6})  # Every score ranks b first.
  assert checked["logme"] == {"kendall_tau": -1.0, "top_ranked": "b", "accuracy_lost": 0.3}

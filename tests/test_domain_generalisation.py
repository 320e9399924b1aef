"""IRM, V-REx and GroupDRO on hand-made batches of two source domains."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tljax import core
from tljax.core import classification
from tljax.losses import groups
from tljax.methods import (
  domain_coral,
  domain_mmd,
  group_dro,
  irm,
  m3sda,
  mixstyle,
  mixup,
  multi_dann,
  vrex,
)


def test_scale_gradient_by_hand_and_by_autodiff():
  # z = [1, 0], label 0: p = [e, 1] / (e + 1), E_p[z] = e / (e + 1), minus z_0 = 1: -1 / (e + 1).
  got = irm.scale_gradients(jnp.array([[1.0, 0.0]]), jnp.array([0]))
  np.testing.assert_allclose(got, [-1.0 / (np.e + 1.0)], rtol=1e-6)
  logits = jax.random.normal(jax.random.key(0), (6, 4))
  labels = jnp.array([0, 3, 1, 2, 2, 0])
  by_autodiff = jax.vmap(
    jax.grad(lambda w, z, y: classification.cross_entropy(w * z[None], y[None])[0]),
    in_axes=(None, 0, 0),
  )(1.0, logits, labels)
  np.testing.assert_allclose(irm.scale_gradients(logits, labels), by_autodiff, rtol=1e-5)


def test_irm_penalty_is_domainbeds_product_of_half_batch_gradients():
  """DomainBed: per domain, grad of the mean CE of rows 0, 2, .. times that of rows 1, 3, .."""
  logits = jax.random.normal(jax.random.key(1), (8, 3)) * 2
  labels = jnp.array([0, 1, 2, 0, 1, 1, 2, 0])
  domains = jnp.array([0, 0, 0, 0, 1, 1, 1, 1])

  def half_gradient(rows):
    mean_ce = lambda w: classification.cross_entropy(w * logits[rows], labels[rows]).mean()  # noqa: E731
    return jax.grad(mean_ce)(1.0)

  expected = sum(half_gradient(np.r_[d : d + 4 : 2]) * half_gradient(np.r_[d + 1 : d + 4 : 2])
                 for d in (0, 4))  # fmt: skip
  np.testing.assert_allclose(irm.irm_penalty(logits, labels, domains, 2), expected, rtol=1e-5)


def test_group_means_and_a_group_without_rows():
  means = groups.group_means(jnp.array([1.0, 3.0, 10.0]), jnp.array([0, 0, 2]), 3)
  np.testing.assert_allclose(means, [2.0, 0.0, 10.0])


def _out(logits, labels, domains, step=0, method_state=None):
  batch = {core.SOURCE: {"label": labels, "domain": domains}}
  return core.Forward(
    {core.SOURCE: logits}, {core.SOURCE: logits}, {}, {}, method_state or {}, batch,
    jnp.asarray(step), jax.random.key(0),
  )  # fmt: skip


# Domain 0: logits 0 for 2 classes -> CE log 2 per row; domain 1: confident and right -> ~0.
LOGITS = jnp.array([[0.0, 0.0], [0.0, 0.0], [30.0, -30.0], [-30.0, 30.0]])
LABELS, DOMAINS = jnp.array([0, 1, 0, 1]), jnp.array([0, 0, 1, 1])


@pytest.mark.parametrize("step, weight", [(0, 1.0), (600, 10.0)])
def test_vrex_loss_is_mean_risk_plus_weighted_variance_by_hand(step, weight):
  method = vrex.Method(num_classes=2, domains=2)
  loss, metrics = method.loss(_out(LOGITS, LABELS, DOMAINS, step))
  mean, variance = np.log(2) / 2, (np.log(2) / 2) ** 2  # Risks (log 2, 0).
  np.testing.assert_allclose(metrics["risk_variance"], variance, rtol=1e-6)
  np.testing.assert_allclose(loss, (mean + weight * variance) / max(weight, 1.0), rtol=1e-6)
  one = dataclasses.replace(method, domains=1)  # One domain: no variance, source only.
  np.testing.assert_allclose(one.loss(_out(LOGITS, LABELS, DOMAINS, step))[1]["risk_variance"], 0)


def test_irm_anneals_its_weight_and_divides_by_it():
  method = irm.Method(num_classes=2, domains=2, penalty_weight=100.0, anneal_steps=500)
  early, m0 = method.loss(_out(LOGITS, LABELS, DOMAINS, 499))
  late, m1 = method.loss(_out(LOGITS, LABELS, DOMAINS, 500))
  risk, penalty = float(m0["cls_loss"]), float(m0["irm_penalty"])
  np.testing.assert_allclose(early, risk + penalty, rtol=1e-6)
  np.testing.assert_allclose(late, (risk + 100.0 * penalty) / 100.0, rtol=1e-6)
  assert float(m1["penalty_weight"]) == 100.0


def test_group_dro_moves_weight_to_the_worse_domain_by_hand():
  method = group_dro.Method(num_classes=2, domains=2, eta=0.5)
  out = _out(LOGITS, LABELS, DOMAINS, method_state={"q": jnp.array([0.5, 0.5])})
  loss, metrics = method.loss(out)
  risk0 = np.log(2)  # Domain 1's risk is ~0: q ∝ (0.5 e^(0.5 log 2), 0.5) = (√2, 1) / (√2 + 1).
  q = np.array([np.sqrt(2), 1.0]) / (np.sqrt(2) + 1)
  np.testing.assert_allclose(out.method_state["q"], q, rtol=1e-6)
  np.testing.assert_allclose(loss, q[0] * risk0, rtol=1e-6)
  assert float(metrics["max_weight"]) == pytest.approx(q[0])
  extras = method.init(jax.random.key(0), None, None)
  np.testing.assert_allclose(extras.state["q"], [0.5, 0.5])


def test_m3sda_moment_distance_by_hand():
  # Two sources, D = 1: source 0 rows {1, 3}, source 1 rows {2, 2}; target rows {0, 2}.
  features = jnp.array([[1.0], [3.0], [2.0], [2.0]])
  moments = m3sda.domain_moments(features, jnp.array([0, 0, 1, 1]), 2)
  np.testing.assert_allclose(moments[0], [[2.0], [2.0]])  # Means.
  np.testing.assert_allclose(moments[1], [[5.0], [4.0]])  # Means of squares.
  target = [jnp.array([1.0]), jnp.array([2.0])]  # Target mean 1, mean square 2.
  # k=1: sources to target (1 + 1) / 2 = 1, between sources 0; k=2: (3 + 2) / 2, between 1.
  np.testing.assert_allclose(m3sda.moment_distance(moments, target), 1.0 + 2.5 + 1.0, rtol=1e-6)
  zero = jax.grad(lambda x: m3sda.norm(x))(jnp.zeros(3))  # A domain absent from a device.
  assert np.isfinite(np.asarray(zero)).all()


def test_multi_dann_discriminates_every_source_domain_and_the_target():
  method = multi_dann.Method(num_classes=2, domains=3, discriminator_hidden=(8,))
  extras = method.init(jax.random.key(0), None, jnp.zeros((4, 5)))
  kernel = extras.params["discriminator"]["MLP_0"]["Dense_1"]["kernel"]
  assert kernel.shape == (8, 4)  # Three sources and the target.


def test_domain_coral_penalty_by_hand():
  # Domain 0 rows (0, 0), (2, 2); domain 1 rows (1, 0), (1, 4): means (1, 1) and (1, 2);
  # unbiased covariances [[2, 2], [2, 2]] and [[0, 0], [0, 8]].
  features = jnp.array([[0.0, 0.0], [2.0, 2.0], [1.0, 0.0], [1.0, 4.0]])
  domains = jnp.array([0, 0, 1, 1])
  # Mean difference (0, -1): mean square 0.5; covariance difference (2, 2, 2, -6): mean 12.
  np.testing.assert_allclose(domain_coral.pairwise_penalty(features, domains, 2), 12.5, rtol=1e-6)
  assert float(domain_coral.pairwise_penalty(features, domains * 0, 1)) == 0.0


def test_domain_coral_penalty_equals_the_covariance_matrices_computed_outright():
  rng = np.random.default_rng(0)
  features = rng.normal(size=(30, 6)) * rng.uniform(0.5, 2.0, size=6)
  domains = np.arange(30) % 3
  covs = [np.cov(features[domains == e], rowvar=False) for e in range(3)]
  means = [features[domains == e].mean(0) for e in range(3)]
  pairs = [(0, 1), (0, 2), (1, 2)]
  want = np.mean(
    [((means[i] - means[j]) ** 2).mean() + ((covs[i] - covs[j]) ** 2).mean() for i, j in pairs]
  )
  got = domain_coral.pairwise_penalty(jnp.asarray(features), jnp.asarray(domains), 3)
  np.testing.assert_allclose(got, want, rtol=1e-5)


def test_domain_mmd_between_domains_by_hand():
  # Domain 0 rows {0, 0}, domain 1 rows {0, 1}, domain 2 rows {0, 0} (1-D features). With
  # s = Σ_g exp(-g) (distance² 1) and 7 = Σ_g exp(0): mean k within domain 0 is 7, within
  # domain 1 (7 + 7 + s + s) / 4, across 0 and 1 (7 + s) / 2, so MMD² = (7 - s) / 2; domains 0
  # and 2 are the same sample, MMD² 0.
  features = jnp.array([[0.0], [0.0], [0.0], [1.0], [0.0], [0.0]])
  mmds = domain_mmd.domain_mmds(features, jnp.array([0, 0, 1, 1, 2, 2]), 3)
  s = sum(math.exp(-g) for g in (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0))
  np.testing.assert_allclose(mmds[0, 1], (7 - s) / 2, rtol=1e-5)
  np.testing.assert_allclose(mmds[1, 2], (7 - s) / 2, rtol=1e-5)
  np.testing.assert_allclose(mmds[0, 2], 0.0, atol=1e-5)
  np.testing.assert_allclose(domain_mmd.pairwise_penalty(mmds), (7 - s) / 3, rtol=1e-5)
  assert float(domain_mmd.pairwise_penalty(mmds[:1, :1])) == 0.0


def test_mixup_pairs_each_row_with_the_same_rank_of_the_next_domain_in_a_cycle():
  domains = jnp.array([0, 0, 1, 1, 2, 2])
  for seed in range(5):
    partner, position = groups.partners(domains, 3, jax.random.key(seed))
    partner, position = np.asarray(partner), np.asarray(position)
    # Rank within the domain is kept; the partner's domain is the next one in the cycle.
    np.testing.assert_array_equal(partner % 2, np.arange(6) % 2)
    cycle = {int(d): int(domains[p]) for d, p in zip(np.asarray(domains), partner)}
    assert sorted(cycle) == [0, 1, 2] and sorted(cycle.values()) == [0, 1, 2]
    assert all(cycle[d] != d for d in cycle)
    assert len({int(p) for p in position}) == 3
  alone, _ = groups.partners(jnp.zeros(6, jnp.int32), 1, jax.random.key(0))
  assert sorted(np.asarray(alone)) == list(range(6))  # One source: a permutation.


def test_mixup_loss_blends_the_two_labels_by_hand():
  method = mixup.Method(num_classes=2)
  logits = jnp.array([[0.0, 0.0], [30.0, -30.0]])  # CE: log 2 either label; ~0 / 60 for row 2.
  batch = {core.SOURCE: {"label": jnp.array([0, 0]), "partner_label": jnp.array([1, 1]),
                         "mix": jnp.array([0.25, 0.75])}}  # fmt: skip
  out = core.Forward({core.SOURCE: logits}, {core.SOURCE: logits}, {}, {}, {}, batch,
                     jnp.asarray(0), jax.random.key(0))  # fmt: skip
  loss, _ = method.loss(out)
  np.testing.assert_allclose(loss, (np.log(2) + 0.25 * 60.0) / 2, rtol=1e-5)


def test_mixstyle_mixes_each_examples_channel_statistics_with_its_partners_by_hand():
  # Example 0: values (1, 3), mean 2, std 1; example 1: (10, 14), mean 12, std 2.
  x = jnp.array([[[[1.0], [3.0]]], [[[10.0], [14.0]]]])  # [B=2, H=1, W=2, C=1]
  partner, lam = jnp.array([1, 0]), jnp.array([0.5, 1.0])
  out = mixstyle.mix_styles(x, partner, lam, jnp.array([True, True]), eps=0.0)
  # Example 0: std 0.5·1 + 0.5·2 = 1.5, mean 0.5·2 + 0.5·12 = 7: (-1, 1)·1.5 + 7.
  np.testing.assert_allclose(out[0, 0, :, 0], [5.5, 8.5], rtol=1e-6)
  np.testing.assert_allclose(out[1], x[1], rtol=1e-6)  # λ = 1 keeps its own style.
  kept = mixstyle.mix_styles(x, partner, lam, jnp.array([False, False]))
  np.testing.assert_array_equal(kept, x)


@pytest.mark.parametrize("probability", [0.0, 1.0])
def test_mixstyle_changes_the_step_only_when_it_mixes(tiny_config, probability):
  """p = 0: the same update as source only, bit for bit; p = 1: the conv maps are restyled."""
  from tests import helpers  # pylint: disable=g-import-not-at-top

  tiny_config.data.image_size = 12
  tiny_config.data.random_shift = 0  # No draw from the step's rng, which the two split apart.
  updates = {}
  for name in ("source_only", "mixstyle"):
    tiny_config.method.name = name
    tiny_config.method.mixstyle.probability = probability
    tiny_config.method.mixstyle.layers = "^backbone/Conv_0$"  # The tiny network's one conv.
    built = helpers.built(tiny_config, (12, 12, 3), 10, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    batch = {"source": {"input": rng.integers(0, 256, (8, 12, 12, 3), dtype=np.uint8),
                        "label": rng.permutation(np.arange(8) % 10)}}  # fmt: skip
    state, _ = jax.jit(built.train_step)(built.state, batch, jax.random.key(0))
    updates[name] = jax.tree.leaves(state.params["classifier"])
  same = all(np.array_equal(a, b) for a, b in zip(updates["source_only"], updates["mixstyle"]))
  assert same == (probability == 0.0)

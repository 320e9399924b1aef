"""Proxy A-distance (Ben-David et al. 2007; Ganin et al. 2016, Sec. 6.1.4).

PAD = 2 (1 - 2 ε), where ε is the test error of a classifier trained to tell
source features from target features. 0 means the domains cannot be told
apart; 2 means they are perfectly separable. The classifier here is
scikit-learn's L2-regularised logistic regression on standardised features,
trained on one half of the pooled held-out examples and tested on the other.
"""

import numpy as np

CLASSIFIER = "logistic regression (sklearn, C=1, standardised features), 50/50 split"


MIN_EXAMPLES = 4  # Per domain: two to fit the domain classifier on, two to test it.


def logistic_regression():
  """The linear probe every analysis here fits: standardise, then L2 logistic regression."""
  from sklearn.linear_model import LogisticRegression  # pylint: disable=g-import-not-at-top
  from sklearn.pipeline import make_pipeline  # pylint: disable=g-import-not-at-top
  from sklearn.preprocessing import StandardScaler  # pylint: disable=g-import-not-at-top

  return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))


def proxy_a_distance(
  source: np.ndarray, target: np.ndarray, seed: int = 0, max_per_domain: int = 2000
) -> float:
  """PAD between two feature sets [N, D] and [M, D], in [0, 2].

  ε is clipped to at most 0.5, so a classifier worse than chance (possible on
  a finite test half) reads as PAD 0, not negative.
  """
  rng = np.random.default_rng(seed)
  n = min(len(source), len(target), max_per_domain)
  if n < MIN_EXAMPLES:
    raise ValueError(f"proxy A-distance needs >= {MIN_EXAMPLES} examples per domain, got {n}")
  source = source[rng.permutation(len(source))[:n]]
  target = target[rng.permutation(len(target))[:n]]
  x = np.concatenate([source, target]).reshape(2 * n, -1).astype(np.float64)
  y = np.concatenate([np.zeros(n), np.ones(n)])
  order = rng.permutation(2 * n)
  train, test = order[:n], order[n:]
  model = logistic_regression()
  model.fit(x[train], y[train])
  error = min(float(np.mean(model.predict(x[test]) != y[test])), 0.5)
  return 2.0 * (1.0 - 2.0 * error)

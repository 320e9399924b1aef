"""Comparison points from outside tljax, on exactly the input a tljax run reads."""

import numpy as np

LOGREG = "sklearn LogisticRegression(C=1, max_iter=2000) on the run's input"


def source_trained_logreg(data) -> dict:
  """Logistic regression fitted on `data.source_train` (`splits.Domains`), scored on the tests."""
  from sklearn.linear_model import LogisticRegression  # pylint: disable=g-import-not-at-top

  flat = lambda a: a["input"].reshape(len(a["input"]), -1).astype(np.float32)  # noqa: E731
  model = LogisticRegression(C=1.0, max_iter=2000)
  model.fit(flat(data.source_train), data.source_train["label"])
  accuracy = lambda a: float((model.predict(flat(a)) == a["label"]).mean())  # noqa: E731
  return {
    "classifier": LOGREG,
    "source_test_accuracy": round(accuracy(data.source_test), 4),
    "target_test_accuracy": round(accuracy(data.target_test), 4),
  }

"""A comparison point from outside tljax: scikit-learn logistic regression on tljax's input.

    python -m experiments.logreg_baseline --config configs/sentiment.py \\
      --config.data.manual_dir=../shared/data/sentiment --pairs=all

For config.data.source -> target (or, with `--pairs=all`, every ordered pair
of the four sentiment genres), loads the same splits and the same input a
tljax run reads (for text: the vectorizer fitted on both domains' unlabelled
training text, the same held-out source validation set), fits
`LogisticRegression(C=1)` on the labelled source training split and scores
the target test split. Writes WORKDIR/logreg_baseline.json and prints a table.
"""

import itertools
import os

from absl import app, flags

from tljax import files
from tljax.run import cli

_PAIRS = flags.DEFINE_enum("pairs", "one", ["one", "all"], "config's pair, or all genre pairs.")
GENRES = ("tweets", "movies", "products", "editorials")


def score_pair(data_config) -> dict:
  """Source-trained logistic regression's accuracy on source and target test."""
  from tljax.analysis import baselines  # pylint: disable=g-import-not-at-top
  from tljax.data import splits  # pylint: disable=g-import-not-at-top

  scores = baselines.source_trained_logreg(splits.load_domains(data_config))
  return {"source": data_config.source, "target": data_config.target, **scores}


def main(argv):
  del argv
  cli.start_analysis()
  config = cli.CONFIG.value
  pairs = [(config.data.source, config.data.target)]
  if _PAIRS.value == "all":
    pairs = [(f"sentiment/{s}", f"sentiment/{t}") for s, t in itertools.permutations(GENRES, 2)]
  rows = []
  for source, target in pairs:
    data_config = config.data.copy_and_resolve_references()
    data_config.source, data_config.target = source, target
    rows.append(cli.exit_on_user_error(score_pair, data_config))
    print(f"{source} -> {target}: target test accuracy {rows[-1]['target_test_accuracy']:.3f}")
  os.makedirs((cli.WORKDIR.value or "runs/logreg_baseline"), exist_ok=True)
  path = os.path.join((cli.WORKDIR.value or "runs/logreg_baseline"), "logreg_baseline.json")
  files.write_json(path, {"runs": rows})
  print(f"wrote {path}")


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)

"""Features of a finished run's final model, for scikit-learn, plus a linear probe.

    python -m experiments.extract_features --workdir runs/digits_to_digits_m/source_only/seed0 \\
        [--splits source_train,source_test,target_train,target_test] [--probe_fit source_train]

Writes WORKDIR/features.npz with `<split>_features` [N, D] (the backbone's
pooled features, from the evaluation weights), `<split>_labels` [N] and
`<split>_logits` [N, K] for each split (at most --max_per_split images, the
first ones), then fits a linear probe (standardise + L2 logistic regression,
scikit-learn) on --probe_fit and prints and writes its accuracy on every
other split to WORKDIR/features_probe.json.

    f = np.load("features.npz"); X, y = f["target_test_features"], f["target_test_labels"]
"""

import argparse
import os
import sys

import numpy as np

from tljax import files
from tljax.run import cli
from tljax.run import finished as finished_run

SPLITS = ("source_train", "source_val", "source_test", "target_train", "target_test")


def extract(workdir: str, splits: list[str], max_per_split: int) -> dict[str, np.ndarray]:
  """{"<split>_features", "<split>_labels", "<split>_logits"} for the run in `workdir`."""
  _, state, data, evaluator = finished_run.load(workdir, finished_run.results(workdir))
  arrays = {}
  for split in splits:
    split_arrays = getattr(data, split)
    if split_arrays is None:
      raise SystemExit(f"error: the run has no {split} split (config.data.source_val_size is 0)")
    split_arrays = {k: v[:max_per_split] for k, v in split_arrays.items()}
    logits, features = evaluator.outputs(state, split_arrays)
    arrays[f"{split}_features"] = features
    arrays[f"{split}_labels"] = split_arrays["label"]
    arrays[f"{split}_logits"] = logits
  return arrays


def linear_probe(arrays: dict, fit: str) -> dict[str, float]:
  """Accuracy on every split of a logistic regression fit on split `fit`'s features."""
  from tljax.analysis import discrepancy  # pylint: disable=g-import-not-at-top

  probe = discrepancy.logistic_regression()
  probe.fit(arrays[f"{fit}_features"], arrays[f"{fit}_labels"])
  splits = [k[: -len("_features")] for k in arrays if k.endswith("_features")]
  return {
    s: round(float(probe.score(arrays[f"{s}_features"], arrays[f"{s}_labels"])), 4) for s in splits
  }


def main(argv: list[str]) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True, help="a finished tljax run")
  parser.add_argument("--splits", default="source_train,source_test,target_train,target_test")
  parser.add_argument("--max_per_split", type=int, default=10000)
  parser.add_argument("--probe_fit", default="source_train", help="'' skips the probe")
  parser.add_argument("--out", default=None, help="where the files go (default: --workdir)")
  parser.add_argument(
    "--noxla_cpu_fast", action="store_true", help="do not add the XLA:CPU YNN flag (see README)"
  )
  args = parser.parse_args(argv[1:])
  cli.start_analysis(fast_cpu=not args.noxla_cpu_fast)
  splits = args.splits.split(",")
  unknown = [s for s in splits if s not in SPLITS]
  if unknown:
    sys.exit(f"error: --splits has {unknown}; choose from {list(SPLITS)}")
  if args.probe_fit and args.probe_fit not in splits:
    sys.exit(f"error: --probe_fit={args.probe_fit!r} must be one of --splits {splits}")
  directory = args.out or args.workdir
  if args.out:
    os.makedirs(directory, exist_ok=True)
  if not (os.path.isdir(directory) and os.access(directory, os.W_OK)):
    sys.exit(f"error: cannot write to {directory}; give --out DIR (the run itself is only read)")
  arrays = cli.exit_on_user_error(extract, args.workdir, splits, args.max_per_split)
  out = os.path.join(directory, "features.npz")
  with files.replacing(out) as tmp, open(tmp, "wb") as f:
    np.savez_compressed(f, **arrays)
  print(f"wrote {out}: " + ", ".join(f"{k} {v.shape}" for k, v in arrays.items()))
  if args.probe_fit:
    accuracy = linear_probe(arrays, args.probe_fit)
    probe = {"fit_on": args.probe_fit, "classifier": "StandardScaler + LogisticRegression(C=1)"}
    probe["accuracy"] = accuracy
    files.write_json(os.path.join(directory, "features_probe.json"), probe)
    print(
      f"linear probe fit on {args.probe_fit}: "
      + ", ".join(f"{k} {v:.4f}" for k, v in accuracy.items())
    )


if __name__ == "__main__":
  main(sys.argv)

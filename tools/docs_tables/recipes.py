"""Recipes, validators and discrepancy: the paper recipe, trade-off picks, reverse scores, PAD."""

from tljax.analysis import tables
from tools.docs_tables.common import (
  accuracies,
  by_method,
  find_runs,
  markdown_table,
  mean_std,
  signed_points,
)


def paper_recipe() -> str:
  """The DANN paper's plain recipe beside tljax's on the digits pair (same seeds)."""
  paper = by_method(find_runs("paper", "digits_to_digits_m"))
  recipe = by_method(find_runs("methods", "digits_to_digits_m"))
  rows = []
  for label, by in (
    ("the paper's (`configs/digits.py:paper`)", paper),
    ("tljax's (default)", recipe),
  ):
    so, dann = accuracies(by["source_only"]), accuracies(by["dann"])
    seeds = sorted(set(by["source_only"]) & set(by["dann"]))
    worse = sum(
      by["dann"][s]["target_test_accuracy"] < by["source_only"][s]["target_test_accuracy"]
      for s in seeds
    )
    rows.append(
      [
        label,
        mean_std(so),
        mean_std(dann),
        signed_points(dann.mean() - so.mean()),
        f"{worse} of {len(seeds)}",
      ]
    )
  return markdown_table(
    ["recipe", "source only", "DANN", "DANN − source only (points)", "seeds DANN worse"], rows
  )


def tradeoff_validators() -> str:
  """DANN's trade-off on MNIST -> MNIST-M: accuracy per setting, then each rule's pick."""
  found = find_runs("mnist_validators")
  by = {}
  for run in found:
    by.setdefault(run.field("method.dann.trade_off"), {})[run.results["seed"]] = run.results
  rows = [
    [t, mean_std(accuracies(runs)), mean_std(accuracies(runs, "target_val_accuracy")),
     ", ".join(f"{runs[s]['target_test_accuracy']:.3f}" for s in sorted(runs))]
    for t, runs in sorted(by.items())
  ]  # fmt: skip
  head = markdown_table(["trade-off", "target test acc", "target val acc", "per seed"], rows)
  return head + "\n\n" + tables.validator_table(found, ["method.dann.trade_off"])


def reverse_scores() -> str:
  """The network-level reverse validation scores per trade-off and seed."""
  rows = []
  for run in sorted(
    find_runs("mnist_validators"),
    key=lambda r: (r.field("method.dann.trade_off"), r.results["seed"]),
  ):
    score = (run.results.get("validators") or {}).get("reverse_dann")
    rows.append(
      [
        run.field("method.dann.trade_off"),
        run.results["seed"],
        "–" if score is None else f"{score:.3f}",
      ]
    )
  return markdown_table(["trade-off", "seed", "reverse DANN's accuracy on source val"], rows)


def pad_table(pair: str = "mnist_to_mnist_m") -> str:
  """Proxy A-distance between the test sets in pixels and in the final features, per method."""
  by = by_method(find_runs("methods", pair))
  rows = []
  for name in ("source_only", "dann", "self_training", "target_only"):
    runs = by[name]
    feats = [runs[s]["proxy_a_distance"]["features"] for s in sorted(runs)]
    pixels = [runs[s]["proxy_a_distance"]["pixels"] for s in sorted(runs)]
    rows.append([name, ", ".join(f"{f:.2f}" for f in feats), mean_std(pixels)])
  return markdown_table(["method", "PAD in the final features, per seed", "PAD in pixels"], rows)

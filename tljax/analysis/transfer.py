"""Did transfer help? Gain over a baseline (source-only or target-only), share of the gap closed."""

import numpy as np


def transfer_summary(
  source_only: dict[int, float], adapted: dict[int, float], oracle: dict[int, float] | None
) -> dict:
  """Compares target test accuracies, each given per seed ({seed: accuracy}).

  Returns the means, the gain (adapted - source-only, in accuracy), the
  per-seed gains on the seeds both have, the fraction of the source-only to
  oracle gap closed (None without an oracle), `negative_transfer` (the mean
  gain is below 0) and a one-sentence `verdict`.
  """
  so, ad = np.mean(list(source_only.values())), np.mean(list(adapted.values()))
  gain = float(ad - so)
  paired = {s: adapted[s] - source_only[s] for s in sorted(set(adapted) & set(source_only))}
  gap_closed = None
  if oracle:
    gap = float(np.mean(list(oracle.values())) - so)
    gap_closed = gain / gap if gap > 0 else None
  worse = sum(g < 0 for g in paired.values())
  if gain < 0:
    verdict = (
      f"NEGATIVE TRANSFER: adaptation made the target worse than source-only by "
      f"{-100 * gain:.1f} points on average (worse on {worse} of {len(paired)} paired seeds)."
    )
  else:
    verdict = (
      f"Adaptation helped: +{100 * gain:.1f} points over source-only on average "
      f"(worse on {worse} of {len(paired)} paired seeds)."
    )
  return {
    "source_only": float(so),
    "adapted": float(ad),
    "oracle": float(np.mean(list(oracle.values()))) if oracle else None,
    "gain": gain,
    "paired_gains": paired,
    "gap_closed": gap_closed,
    "negative_transfer": gain < 0,
    "verdict": verdict,
  }


BASELINE_MODE = "target_only"


def finetune_table(runs: list[dict]) -> dict:
  """Accuracy per mode and labels per class, and where pretraining hurt.

  Args:
    runs: [{"mode", "labels_per_class", "seed", "target_test_accuracy"}, ...];
      mode "target_only" (trained from scratch on the same labelled target
      images) is the baseline every other mode is compared with.

  Returns:
    {"accuracy": {mode: {k: {"mean", "std", "per_seed"}}}, "negative_transfer":
    [one entry per (mode, k) whose mean is below the baseline's], "verdicts":
    [one sentence per (mode, k)]}. `k` is a string ("all" for every label).
  """
  accuracy = {}
  for r in runs:
    cell = accuracy.setdefault(r["mode"], {}).setdefault(str(r["labels_per_class"]), {})
    cell.setdefault("per_seed", {})[r["seed"]] = r["target_test_accuracy"]
  for cells in accuracy.values():
    for cell in cells.values():
      values = np.array(list(cell["per_seed"].values()))
      cell["mean"] = float(values.mean())
      cell["std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
  negative, verdicts = [], []
  baseline = accuracy.get(BASELINE_MODE, {})
  for mode, cells in accuracy.items():
    if mode == BASELINE_MODE:
      continue
    for k, cell in cells.items():
      if k not in baseline:
        continue
      base = baseline[k]
      diff = cell["mean"] - base["mean"]
      seeds = sorted(set(cell["per_seed"]) & set(base["per_seed"]))
      worse = sum(cell["per_seed"][s] < base["per_seed"][s] for s in seeds)
      entry = {
        "mode": mode,
        "labels_per_class": k,
        "accuracy": cell["mean"],
        "target_only": base["mean"],
        "difference": diff,
        "worse_on_seeds": f"{worse} of {len(seeds)}",
      }
      what = f"{mode} with {k} labelled target images per class"
      numbers = (
        f"({cell['mean']:.3f} vs {base['mean']:.3f}; worse on {worse} of {len(seeds)} seeds)."
      )
      if diff < 0:
        negative.append(entry)
        verdicts.append(
          f"NEGATIVE TRANSFER: {what} is {-100 * diff:.1f} points below target-only from "
          f"scratch {numbers}"
        )
      else:
        verdicts.append(f"{what}: +{100 * diff:.1f} points over target-only from scratch {numbers}")
  return {"accuracy": accuracy, "negative_transfer": negative, "verdicts": verdicts}

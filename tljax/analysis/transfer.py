"""Did adaptation help? Gain over source-only, share of the gap to the oracle closed."""

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

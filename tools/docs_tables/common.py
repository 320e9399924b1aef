"""The docs generator's shared pieces: where results are, how runs are read, how numbers print."""

from collections.abc import Callable
import json
import os

import numpy as np

from tljax.analysis import runs as runs_lib
from tljax.analysis import tables

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = os.path.join(ROOT, "docs", "results")

# The method benchmark's rows, in the README's order: (name, kind, paper).
METHODS = [
  ("source_only", "baseline", "–"),
  ("dann", "feature: adversarial", "Ganin et al. 2016"),
  ("cdan", "feature: adversarial", "Long et al. 2018"),
  ("cdan_e", "feature: adversarial", "Long et al. 2018"),
  ("mdd", "feature: adversarial", "Zhang et al. 2019"),
  ("mcd", "feature: adversarial", "Saito et al. 2018"),
  ("coral", "feature: statistics", "Sun & Saenko 2016"),
  ("dan", "feature: statistics", "Long et al. 2015"),
  ("jan", "feature: statistics", "Long et al. 2017"),
  ("mcc", "target regulariser", "Jin et al. 2020"),
  ("self_training", "pseudo-labels", "Sohn et al. 2020"),
  ("iw_erm", "instance: domain classifier", "Shimodaira 2000"),
  ("target_only", "oracle (reads target labels)", "–"),
]
PAIRS = {"digits → digits-M": "digits_to_digits_m", "MNIST → MNIST-M": "mnist_to_mnist_m"}
SPEECH_PAIRS = ("us_clean_to_accents_clean", "us_clean_to_accents_noisy")
# The README's methods table: the speech pairs as columns beside the image pairs.
SPEECH_COLUMNS = {"speech → accents": SPEECH_PAIRS[0], "speech → accents, noisy": SPEECH_PAIRS[1]}


def results_path(*parts: str) -> str:
  """docs/results/PARTS; FileNotFoundError if it is not committed."""
  full = os.path.join(RESULTS, *parts)
  if not os.path.exists(full):
    raise FileNotFoundError(f"docs/results/{'/'.join(parts)} is missing: commit the runs first")
  return full


def result_dirs(*parts: str) -> list[str]:
  """The sub-directories of docs/results/PARTS, sorted."""
  root = results_path(*parts)
  return sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))


def find_runs(*parts: str) -> list[runs_lib.Run]:
  found = runs_lib.find([results_path(*parts)])
  if not found:
    raise FileNotFoundError(f"no finished run under docs/results/{'/'.join(parts)}")
  return found


def load_json(*parts: str) -> dict:
  with open(results_path(*parts)) as f:
    return json.load(f)


def by_method(found) -> dict[str, dict[int, dict]]:
  """{method: {seed: results}}."""
  out = {}
  for run in found:
    r = run.results
    out.setdefault(r["method"], {})[r["seed"]] = r
  return out


def accuracies(runs: dict[int, dict], key: str = "target_test_accuracy") -> np.ndarray:
  return np.array([runs[s][key] for s in sorted(runs)])


def mean_std(values) -> str:
  values = np.asarray(values)
  return (
    f"{values.mean():.3f} ± {tables.std(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"
  )


def signed_points(value: float) -> str:
  return f"{100 * value:+.1f}"


def markdown_table(header: list[str], rows: list[list]) -> str:
  return tables.markdown(header, rows)


def not_yet(fn: Callable[[], str], anchor: str | None = None) -> str:
  """fn()'s cell, or that the runs are not there yet (with `anchor`: a README pointer to the
  section of docs/results.md that says so)."""
  try:
    return fn()
  except FileNotFoundError:
    where = f" ([results](docs/results.md#{anchor}))" if anchor else ""
    return f"not run with this wave's code yet{where}"

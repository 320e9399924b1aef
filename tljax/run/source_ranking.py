"""Scores candidate pretrained runs on a labelled target split (no flags: importable by tests).

See experiments/rank_sources.py for the command.
"""

import time

import jax
import numpy as np

from tljax.analysis import transferability
from tljax.run import finished as finished_run


def candidate_outputs(run: str, target: str, split: str, max_examples: int):
  """(features [N, D], source-task probabilities [N, Z], labels [N]) of `run` on `target`."""
  from tljax import checkpoint  # pylint: disable=g-import-not-at-top
  from tljax.data import pipeline  # pylint: disable=g-import-not-at-top
  from tljax.run import build, evaluation  # pylint: disable=g-import-not-at-top

  finished = finished_run.results(run)
  config = finished_run.stored_config(finished["config"])
  arrays, _ = pipeline.load(target, split, config.data)
  arrays = {k: v[:max_examples] for k, v in arrays.items()}
  num_classes = len(finished["final"]["source_test"]["confusion"])
  shape = tuple(np.asarray(arrays["input"][:1]).shape[1:])
  built = build.build(config, shape, num_classes)
  state = checkpoint.restore_step(run, finished["steps"], built.state)
  logits, features = evaluation.Evaluator(config, built.method.outputs).outputs(state, arrays)
  probs = np.asarray(jax.nn.softmax(logits, axis=-1), np.float64)
  return features, probs, np.asarray(arrays["label"])


def score(run: str, target: str, split: str = "train", max_examples: int = 5000) -> dict:
  """{score name: value, "seconds": time to compute them all} for one candidate."""
  start = time.perf_counter()
  features, probs, labels = candidate_outputs(run, target, split, max_examples)
  inputs = {"features": features, "probs": probs}
  out = {name: fn(inputs[kind], labels) for name, (kind, fn) in transferability.SCORES.items()}
  out = {k: round(float(v), 6) for k, v in out.items()}
  return {**out, "examples": int(len(labels)), "seconds": round(time.perf_counter() - start, 2)}


def kendall_tau(scores: list[float], accuracies: list[float]) -> float:
  """Kendall's tau-b between a score and the fine-tuned accuracies."""
  from scipy import stats  # pylint: disable=g-import-not-at-top

  return round(float(stats.kendalltau(scores, accuracies).statistic), 4)


def table(ranked: dict[str, dict]) -> str:
  """Markdown: one row per candidate, best LogME first."""
  names = list(transferability.SCORES)
  rows = [
    "| candidate | " + " | ".join(names) + " | seconds |",
    "|---|" + "---|" * (len(names) + 1),
  ]
  order = sorted(ranked, key=lambda r: -ranked[r]["logme"])
  for run in order:
    s = ranked[run]
    rows.append(f"| {run} | " + " | ".join(f"{s[n]:.4g}" for n in names) + f" | {s['seconds']} |")
  return "\n".join(rows)


def finetuned_accuracy(finetune_dir: str) -> tuple[float, float]:
  """(mean target test accuracy of its fine-tuned runs, their mean wall seconds) of an
  experiments.finetune workdir with one label budget and the `finetune` mode."""
  import json  # pylint: disable=g-import-not-at-top
  import os  # pylint: disable=g-import-not-at-top

  results = json.load(open(os.path.join(finetune_dir, "results.json")))
  accs = [r["target_test_accuracy"] for r in results["runs"] if r["mode"] == "finetune"]
  walls = []
  for r in results["runs"]:
    if r["mode"] == "finetune":
      run = os.path.join(
        finetune_dir,
        f"k={r['labels_per_class'] if r['labels_per_class'] != 'all' else 0}",
        "finetune",
        f"seed={r['seed']}",
      )
      walls.append(json.load(open(os.path.join(run, "results.json")))["wall_seconds"])
  return float(np.mean(accs)), float(np.mean(walls))


def validate(ranked: dict[str, dict], accuracy: dict[str, float]) -> dict:
  """Kendall's tau of each score with the fine-tuned accuracy, and what picking its top loses."""
  runs = list(ranked)
  best = max(accuracy[r] for r in runs)
  out = {}
  for name in transferability.SCORES:
    scores = [ranked[r][name] for r in runs]
    top = runs[int(np.argmax(scores))]
    out[name] = {
      "kendall_tau": kendall_tau(scores, [accuracy[r] for r in runs]),
      "top_ranked": top,
      "accuracy_lost": round(best - accuracy[top], 4),
    }
  return out

"""What a finished run reports: results.json's fields and the evaluation history."""

import jax

from tljax import metrics as metrics_lib
from tljax.run import evaluation


def history_entry(step: int, results: dict, scores: dict | None, flat: bool = False) -> dict:
  """One evaluation: accuracies per split and validator scores (flat: metrics.jsonl keys)."""
  measures = ("accuracy", "os_star", "unk", "hos")  # The last three: with an unknown class.
  if flat:
    out = {
      f"eval/{split}/{k}": r[k]
      for split, r in results.items()
      for k in measures
      if r.get(k) is not None
    }
    out.update({f"validators/{k}": v for k, v in (scores or {}).items()})
    return out
  entry = {"step": step, **{f"{split}_accuracy": r["accuracy"] for split, r in results.items()}}
  entry.update(
    {f"{split}_{k}": r[k] for split, r in results.items() for k in measures[1:] if k in r}
  )
  if scores:
    entry["validators"] = scores
  return entry


def init_summary(model, report: dict | None) -> dict | None:
  if report is None:
    return None
  return {
    "init_checkpoint": model.init_checkpoint,
    "torch_weights": model.torch_weights,
    "skip_load": list(model.skip_load),
    **{k: len(v) for k, v in report.items()},
    "skipped_names": report["skipped"],
    "new_names": report["new"],
    "unused_names": report["unused"],
  }


def finished(config, state, final, pad, scores, history, run) -> dict:
  """results.json of a finished run.

  Args:
    config: the run's config.
    state: the final (local) train state.
    final: `evaluation.evaluate_all` of the final state.
    pad: `evaluation.domain_discrepancy` of the final state.
    scores: the final validator scores (None without a source_val split).
    history: every evaluation, `history_entry` dicts sorted by step.
    run: {"start_step", "wall_seconds", "labelled_train_examples",
      "reads_target_labels", "init_report", "warnings"}.
  """
  return {
    "status": "finished",
    "method": config.method.name,
    "source": config.data.source,
    "target": config.data.target,
    "seed": config.seed,
    "steps": int(state.step),
    "resumed_from_step": run["start_step"],
    "wall_seconds": run["wall_seconds"],
    # None in a source-free run, which never reads source data.
    "source_test_accuracy": final["source_test"]["accuracy"] if "source_test" in final else None,
    "target_test_accuracy": final["target_test"]["accuracy"],
    **({"target_val_accuracy": final["target_val"]["accuracy"]} if "target_val" in final else {}),
    **{  # Label sets that differ: OS*, UNK and HOS of the target splits.
      f"{split}_{k}": final[split][k]
      for split in ("target_test", "target_val")
      for k in ("os_star", "unk", "hos")
      if split in final and k in final[split]
    },
    "selection": "final checkpoint (no target labels used to select)",
    "labelled_train_examples": run["labelled_train_examples"],
    # True for an oracle: tables never offer it as a choice made without target labels.
    "reads_target_labels": run["reads_target_labels"],
    "init": init_summary(config.model, run["init_report"]),
    "warnings": run["warnings"],
    "final": final,
    "proxy_a_distance": pad,
    "validators": scores,
    "selected_by_validator": evaluation.selections(history) if scores else None,
    "eval_history": history,
    "config": config.to_dict(),
  }


def history(workdir: str, final_step: int, final: dict, scores: dict | None) -> list[dict]:
  """The evaluations logged in `workdir` before `final_step`, then the final one."""
  logged = metrics_lib.eval_history(workdir) if jax.process_index() == 0 else []
  return [h for h in logged if h["step"] < final_step] + [history_entry(final_step, final, scores)]

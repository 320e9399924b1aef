"""Tables of finished runs: accuracy per setting, and the settings label-free validators pick.

`summary_table` gives one row per (root, source, target, setting) with the
target test accuracy over seeds. `validator_picks` is model selection without
target labels done honestly: for every task (source, target, seed), each
validator compares only the runs of that task that never read a target label,
and picks the best score; equal scores (as stored, 5 decimals) are a tie,
counted and resolved by the mean target accuracy of the tied runs (the
expected accuracy of picking one of them at random), never by a method's name.
Two oracle rows sit beside them, each labelled: `oracle_val` picks by target
*validation* accuracy (oracle selection: it reads target labels, but not the
test split's) and `oracle_test` by target test accuracy itself (the ceiling).
"""

import dataclasses

import numpy as np

from tljax.analysis import validators
from tljax.analysis.runs import Run

ORDER = {"source_only": 0, "target_only": 99}  # Rows: the baselines around the rest.
COLUMNS = [
  "target test acc (mean ± sample std)",
  "source test acc",
  "seeds",
  "per-seed target acc",
  "steps",
  "wall s (mean)",
]
TASK_FIELDS = ("data.source", "data.target", "seed")
ORACLES = {
  "oracle_val": "target_val_accuracy",  # Oracle selection on a target validation split.
  "oracle_test": "target_test_accuracy",  # The ceiling: target test labels.
}


def setting(run: Run, group_by) -> tuple:
  """The values of the `group_by` config fields of a run (its setting)."""
  return tuple(run.field(key) for key in group_by)


def std(values) -> float:
  """Sample standard deviation (0 for one value)."""
  values = np.asarray(values, np.float64)
  return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def markdown(header: list[str], rows: list[list]) -> str:
  """A markdown table: the header, its rule, one line per row (cells as `str` gives them)."""
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def mean_std(values) -> str:
  return f"{np.mean(values):.3f} ± {std(values):.3f}"


def _sort_key(value):
  return (ORDER.get(value, 9), str(value))


def summary_table(runs: list[Run], group_by=("method.name",)) -> str:
  """One markdown row per (root, source, target, values of `group_by`)."""
  groups = {}
  for run in runs:
    r = run.results
    groups.setdefault((run.root, r["source"], r["target"], setting(run, group_by)), []).append(r)
  header = ["runs", "source → target", *group_by, *COLUMNS]
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  for (root, source, target, values), rs in sorted(
    groups.items(), key=lambda kv: (kv[0][:3], [_sort_key(v) for v in kv[0][3]])
  ):
    rs = sorted(rs, key=lambda r: r["seed"])
    tgt = [r["target_test_accuracy"] for r in rs]
    src = [r["source_test_accuracy"] for r in rs if r["source_test_accuracy"] is not None]
    lines.append(
      f"| {root} | {source} → {target} | {' | '.join(map(str, values))} | "
      f"{mean_std(tgt)} | {f'{np.mean(src):.3f}' if src else '–'} | {len(rs)} | "
      f"{', '.join(f'{a:.3f}' for a in tgt)} | {rs[0]['steps']} | "
      f"{np.mean([r['wall_seconds'] for r in rs]):.0f} |"
    )
  return "\n".join(lines)


@dataclasses.dataclass
class Picks:
  """One selection rule's choices over the tasks it could score."""

  name: str
  picked: dict  # task (source, target, seed) -> label of the pick ("a" or "tie: a / b").
  accuracy: dict  # task -> target test accuracy of the pick (mean over tied runs).
  ties: int  # Tasks whose best score several runs shared.

  @property
  def mean(self) -> float:
    return float(np.mean(list(self.accuracy.values())))

  @property
  def std(self) -> float:
    return std(list(self.accuracy.values()))


def candidates(runs: list[Run]) -> dict[tuple, list[Run]]:
  """Runs a label-free choice may compare, by task: scored by the validators, no target labels."""
  tasks = {}
  for run in runs:
    if run.results.get("validators") and not run.reads_target_labels:
      tasks.setdefault(run.task, []).append(run)
  return tasks


def _score(run: Run, name: str):
  if name in ORACLES:
    return run.results.get(ORACLES[name])
  return run.results["validators"].get(name)


def pick(tasks: dict[tuple, list[Run]], name: str, label, higher_is_better: bool) -> Picks | None:
  """`name`'s choice in every task (None if some candidate lacks its score)."""
  picked, accuracy, ties = {}, {}, 0
  sign = 1.0 if higher_is_better else -1.0
  for task, runs in sorted(tasks.items()):
    scores = [_score(r, name) for r in runs]
    if any(s is None for s in scores):
      return None
    best = max(sign * s for s in scores)
    tied = [r for r, s in zip(runs, scores) if sign * s == best]
    labels = sorted({label(r) for r in tied})
    if len(tied) > 1:
      ties += 1
      picked[task] = "tie: " + " / ".join(labels)
    else:
      picked[task] = labels[0]
    accuracy[task] = float(np.mean([r.results["target_test_accuracy"] for r in tied]))
  return Picks(name, picked, accuracy, ties)


def complete_tasks(tasks: dict[tuple, list[Run]], label) -> tuple[dict, list[tuple]]:
  """(tasks holding every setting their pair was run with, the tasks left out).

  A task (source, target, seed) where only some settings ran is a smaller pool,
  and one that someone chose (e.g. the methods that did well on another seed's
  test labels): a pick among it would not be the rule's own choice.
  """
  settings = {}
  for task, runs in tasks.items():
    settings.setdefault(task[:2], set()).update(label(r) for r in runs)
  kept = {t: r for t, r in tasks.items() if {label(x) for x in r} == settings[t[:2]]}
  return kept, sorted(set(tasks) - set(kept))


def _label(group_by):
  fields = [k for k in group_by if k not in TASK_FIELDS] or ["method.name"]
  return lambda run: ", ".join(map(str, setting(run, fields)))


def validator_picks(runs: list[Run], group_by=("method.name",)) -> list[Picks]:
  """Every validator's and oracle's picks per complete task (see the module docstring)."""
  label = _label(group_by)
  tasks, _ = complete_tasks(candidates(runs), label)
  if not tasks:
    return []
  rules = [(name, up) for name, up in validators.HIGHER_IS_BETTER.items()]
  rules += [(name, True) for name in ORACLES]
  found = [pick(tasks, name, label, up) for name, up in rules]
  return [p for p in found if p is not None]


def _pick_text(p: Picks, tasks: list) -> str:
  """Each task's pick where there are few tasks, else how often each setting was picked."""
  if len(tasks) <= 6:
    return "; ".join(f"{_task_name(t, tasks)}: {p.picked[t]}" for t in tasks)
  counts = {}
  for t in tasks:
    key = "tie" if p.picked[t].startswith("tie: ") else p.picked[t]
    counts[key] = counts.get(key, 0) + 1
  return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def _task_name(task: tuple, tasks: list) -> str:
  """'seed 0' when every task has one pair, else 'a → b, seed 0'."""
  if len({t[:2] for t in tasks}) == 1:
    return f"seed {task[2]}"
  return f"{task[0]} → {task[1]}, seed {task[2]}"


ROW_NAMES = {
  "oracle_val": "oracle_val (target val labels: oracle selection)",
  "oracle_test": "oracle_test (target test labels: the ceiling)",
}


def validator_table(runs: list[Run], group_by=("method.name",)) -> str:
  """Markdown: per rule, its picks, its ties and the target test accuracy of what it picked."""
  picks = validator_picks(runs, group_by)
  if not picks:
    return "(no runs with validator scores: set config.data.source_val_size > 0)"
  tasks = sorted(picks[0].picked)
  header = [
    "validator",
    f"picked (per task of {len(tasks)}: source → target, seed)",
    "ties (mean acc of the tied runs)",
    "target test acc of the picks (mean ± sample std over tasks)",
  ]
  lines = ["| " + " | ".join(header) + " |", "|---|---|---|---|"]
  for p in picks:
    lines.append(
      f"| {ROW_NAMES.get(p.name, p.name)} | {_pick_text(p, tasks)} | {p.ties} | "
      f"{p.mean:.3f} ± {p.std:.3f} |"
    )
  _, left_out = complete_tasks(candidates(runs), _label(group_by))
  if left_out:
    names = ", ".join(_task_name(t, left_out) for t in left_out)
    lines.append(
      f"\nLeft out: {names}, where only some of the settings ran (a pool someone chose is "
      "not the rule's own choice)."
    )
  return "\n".join(lines)

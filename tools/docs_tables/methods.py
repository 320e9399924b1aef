"""The method benchmark: every method on each pair, the README's methods table and first command."""

import re

import numpy as np

from tljax.analysis import tables
from tools.docs_tables import source_free
from tools.docs_tables.common import (
  METHODS,
  PAIRS,
  SPEECH_COLUMNS,
  accuracies,
  by_method,
  find_runs,
  load_json,
  markdown_table,
  mean_std,
  results_path,
  signed_points,
)


def _step_cost() -> dict[str, float]:
  return {
    k: v["relative_to_dann"]
    for k, v in load_json("bench_methods", "bench_methods.json")["methods"].items()
  }


def method_benchmark(pair: str, root: str = "methods") -> str:
  """Every method on one pair: accuracy over seeds, gain over source only, cost.

  The step cost (benchmarks.bench --methods) is the digits network's: shown for `methods`.
  """
  by = by_method(find_runs(root, pair))
  so = accuracies(by["source_only"]).mean()
  cost = _step_cost() if root == "methods" else {}
  rows = []
  for name, _, _ in METHODS:
    if name not in by:
      continue
    runs = by[name]
    acc = accuracies(runs)
    val = [r.get("target_val_accuracy") for r in runs.values()]
    gain = "" if name in ("source_only", "target_only") else signed_points(acc.mean() - so)
    rows.append([
      f"{name} (oracle)" if name == "target_only" else name,
      mean_std(acc),
      f"{len(acc)}: " + ", ".join(f"{a:.3f}" for a in acc),
      gain,
      mean_std([v for v in val]) if None not in val else "–",
      f"{accuracies(runs, 'source_test_accuracy').mean():.3f}",
      f"{np.mean([r['wall_seconds'] for r in runs.values()]):.0f}",
      f"{cost[name]:.2f}" if name in cost else "–",
    ])  # fmt: skip
  header = [
    "method", "target test acc (mean ± sample std)", "seeds: per-seed acc",
    "gain vs source only (points)", "target val acc", "source test acc", "wall s per run",
    "step cost vs DANN",
  ]  # fmt: skip
  return markdown_table(header, rows)


def method_verdicts(pair: str, root: str = "methods") -> str:
  """One sentence per adaptation method: gain, seeds better or worse, negative transfer."""
  by = by_method(find_runs(root, pair))
  so = by["source_only"]
  lines = []
  for name, _, _ in METHODS:
    if name in ("source_only", "target_only") or name not in by:
      continue
    runs = by[name]
    seeds = sorted(set(runs) & set(so))
    better = sum(runs[s]["target_test_accuracy"] > so[s]["target_test_accuracy"] for s in seeds)
    gain = accuracies(runs).mean() - accuracies(so).mean()
    verdict = "**negative transfer**" if gain < 0 else "helps" if better == len(seeds) else "mixed"
    lines.append(
      f"- `{name}`: {signed_points(gain)} points over source only on average, better on "
      f"{better} of {len(seeds)} seeds: {verdict}."
    )
  return "\n".join(lines)


def validator_picks(pair: str, root: str = "methods") -> str:
  return tables.validator_table(find_runs(root, pair), ["method.name"])


def methods_summary() -> str:
  """The README's methods table: each method on both pairs, mean ± std (seeds); the source-free
  methods as a group, each seed's learning rate picked by the label-free info_max."""
  cells = {label: by_method(find_runs("methods", pair)) for label, pair in PAIRS.items()}
  cells.update({label: by_method(find_runs("speech", p)) for label, p in SPEECH_COLUMNS.items()})
  rows = []
  for name, kind, paper in METHODS:
    link = f"[`{name}`](tljax/methods/{name}.py)"
    row = [kind, link, paper]
    for label in cells:
      runs = cells[label].get(name)
      row.append(f"{mean_std(accuracies(runs))} ({len(runs)})" if runs else "not run")
    rows.append(row)
  kinds = {  # Source-free rows: the source model they start from -> folder suffix.
    "no source data (`optim.lr` by info_max)": "",
    "no source data, source trained with `data.colour_jitter` (`optim.lr` by info_max)": (
      source_free.COLOUR_JITTER
    ),
    "no source data, source trained with `data.colour_jitter` (steps by info_max)": (
      source_free.COLOUR_JITTER + source_free.LONG
    ),
  }
  for kind, suffix in kinds.items():
    for name, paper in source_free.SOURCE_FREE_PAPERS.items():
      row = [kind, f"[`{name}`](tljax/methods/{name}.py)", paper]
      for pair in PAIRS.values():
        try:
          picked = source_free._picked(
            source_free._source_free(pair + suffix)[1],
            name,
            source_free.SELECTION_RULES["info_max (label-free)"],
          )
        except FileNotFoundError:
          picked = []
        row.append(f"{mean_std(picked)} ({len(picked)})" if picked else "not run")
      if row[3:] == ["not run"] * len(PAIRS):
        continue
      rows.append(row + ["not run"] * len(SPEECH_COLUMNS))
  header = ["kind", "`method.name`", "paper", *[f"{p} (seeds)" for p in cells]]
  return markdown_table(header, rows)


def main_command() -> str:
  """What the README's first command gives: DANN seed 0, and the three baselines over seeds."""
  by = by_method(find_runs("methods", "digits_to_digits_m"))
  dann0 = by["dann"][0]
  so, dann, to = (accuracies(by[m]) for m in ("source_only", "dann", "target_only"))
  walls = [r["wall_seconds"] for r in by["dann"].values()]
  return (
    f"`results.json` holds the target test accuracy of the final checkpoint: "
    f"**{dann0['target_test_accuracy']:.3f}** for seed 0. Over 3 seeds DANN reaches "
    f"{mean_std(dann)} against {mean_std(so)} for source only (trained on target labels: "
    f"{mean_std(to)}); a run took {np.mean(walls):.0f} s on average on this project's 2 CPU "
    f"cores (`wall_seconds`, the benchmark's runs, which shared the machine with other work)."
  )


def main_command_log() -> str:
  """Progress lines of the digits DANN run, seed 0, as its command logged them (time stamps off)."""
  wanted = re.compile(r"^\d\d:\d\d:\d\d (step (250|2500)/|eval step 2500 |proxy A-distance)")
  with open(results_path("methods", "digits_to_digits_m", "dann_seed0.log")) as f:
    lines = [line.rstrip("\n")[9:] for line in f if wanted.match(line)]
  return "```\n" + "\n".join(lines) + "\n```"


def published() -> str:
  """Published numbers for the same methods (in %), with how each was selected."""
  data = load_json("references", "published_digits.json")
  rows = [[r["method"], r["tllib"], r["paper"]] for r in data["rows"]]
  return markdown_table(["method", data["tllib_header"], "original paper"], rows)

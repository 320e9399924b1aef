"""Source-free adaptation: SHOT, SHOT-IM, NRC and AaD from a source run; the setting each
rule picks.

A setting is a run's learning rate and step budget (`optim.lr`, `train.num_steps`)."""

import numpy as np

from tools.docs_tables.common import (
  accuracies,
  by_method,
  find_runs,
  load_json,
  markdown_table,
  mean_std,
  signed_points,
)

SOURCE_FREE_PAPERS = {
  "shot_im": "Liang et al. 2020",
  "shot": "Liang et al. 2020",
  "nrc": "Yang et al. 2021",
  "aad": "Yang et al. 2022",
}


SOURCE_FREE = tuple(SOURCE_FREE_PAPERS)


SUMMARY_LINKS = "../../../../tljax/methods"  # From docs/results/source_free/<pair>/.


# Folder suffix of runs whose source model trained with data.colour_jitter (`<pair><suffix>`).
COLOUR_JITTER = "_colour_jitter"
# ... and of runs at SHOT's 30-epoch target budget beside 6,000 steps, from source models trained
# again with the colour jitter (`<pair><COLOUR_JITTER><LONG>`).
LONG = "_long"


SOURCE_FREE_ANCHOR = "without-the-source-data-source-free-adaptation"


SELECTION_RULES = {  # How a setting is picked per seed among a method's source-free runs.
  "entropy (label-free)": lambda r: -r["validators"]["entropy"],
  "info_max (label-free)": lambda r: r["validators"]["info_max"],
  "oracle selection (target val labels)": lambda r: r["target_val_accuracy"],
}


def _source_free(pair: str) -> tuple[dict, dict]:
  """({seed: source run}, {(method, lr, steps): {seed: run}}) of docs/results/source_free/PAIR."""
  sources = {r.results["seed"]: r.results for r in find_runs("source_free", pair, "source")}
  adapted = {}
  for run in find_runs("source_free", pair):
    r = run.results
    if r["method"] in SOURCE_FREE:
      setting = (r["method"], r["config"]["optim"]["lr"], r["steps"])
      adapted.setdefault(setting, {})[r["seed"]] = r
  return sources, adapted


def _setting(lr: float, steps: int, budgets: set) -> str:
  """A setting as a table names it: the rate, and the step budget where a method ran several."""
  return f"{lr:g}" if len(budgets) == 1 else f"{lr:g} × {steps:,} steps"


def _picks(adapted: dict, method: str, score) -> list[tuple[str, dict]]:
  """(setting, run) per seed (those every setting ran): `method`'s run with the best `score`."""
  runs = {(lr, steps): seeds for (m, lr, steps), seeds in adapted.items() if m == method}
  budgets = {steps for _, steps in runs}
  seeds = sorted(set.intersection(*(set(v) for v in runs.values()))) if runs else []
  picks = [max(runs, key=lambda key, s=s: score(runs[key][s])) for s in seeds]
  return [(_setting(*key, budgets), runs[key][s]) for key, s in zip(picks, seeds)]


def _picked(adapted: dict, method: str, score) -> list[float]:
  """Target test accuracy per seed of `method`'s run with the best `score` among its settings."""
  return [run["target_test_accuracy"] for _, run in _picks(adapted, method, score)]


def source_free_table(
  pair: str = "digits_to_digits_m",
  links: str = "../tljax/methods",
  beside: tuple = (),
  benchmark: str | None = None,
) -> str:
  """Source-free methods per learning rate beside the source model they start from, and the
  `beside` methods of the method benchmark on `benchmark` (default: `pair`), which trained with
  the source data. `pair` names a folder under docs/results/source_free/."""
  sources, adapted = _source_free(pair)
  budget = lambda runs: ", ".join(sorted({f"{r['steps']:,}" for r in runs.values()}))  # noqa: E731
  rows = [["source model (`source_only`)", "–", budget(sources), mean_std(accuracies(sources))]]
  with_source = by_method(find_runs("methods", benchmark or pair)) if beside else {}
  for name in beside:
    runs = with_source[name]
    rows.append([f"`{name}`, with the source data", "–", budget(runs), mean_std(accuracies(runs))])
  rows = [row + ["–", "–"] for row in rows]
  order = lambda item: (SOURCE_FREE.index(item[0][0]), -item[0][1], item[0][2])  # noqa: E731
  for (method, lr, steps), runs in sorted(adapted.items(), key=order):
    gain = [runs[s]["target_test_accuracy"] - sources[s]["target_test_accuracy"] for s in runs]
    rows.append([
      f"[`{method}`]({links}/{method}.py)", f"{lr:g}", f"{steps:,}", mean_std(accuracies(runs)),
      signed_points(float(np.mean(gain))), f"{sum(g < 0 for g in gain)} of {len(runs)}",
    ])  # fmt: skip
  header = ["method", "`optim.lr`", "steps", "target test accuracy", "vs source model (points)"]
  if len({row[2] for row in rows}) == 1:  # One step budget everywhere: said in the text.
    header, rows = header[:2] + header[3:], [row[:2] + row[3:] for row in rows]
  return markdown_table([*header, "seeds worse"], rows)


def source_free_selection(pair: str = "digits_to_digits_m") -> str:
  """Which learning rate each rule picks per method and seed, and the accuracy that gives."""
  _, adapted = _source_free(pair)
  rows = []
  for method in SOURCE_FREE:
    for rule, score in SELECTION_RULES.items():
      picks = _picks(adapted, method, score)
      if picks:
        settings = ", ".join(setting for setting, _ in picks)
        accuracy = mean_std([run["target_test_accuracy"] for _, run in picks])
        rows.append([f"`{method}`", rule, settings, accuracy])
  several = len({steps for _, _, steps in adapted}) > 1
  picked = "setting picked (per seed)" if several else "`optim.lr` picked (per seed)"
  header = ["method", "picks by", picked, "target test accuracy"]
  return markdown_table(header, rows)


def published_shot() -> str:
  """SHOT's published digits accuracies (other pairs), with where they were read."""
  data = load_json("references", "published_shot_digits.json")
  rows = [[r["task"], f"`{r['method']}`", f"{r['accuracy']:.1f}"] for r in data["rows"]]
  return (
    markdown_table(["task (not tljax's pair)", "method", "accuracy (%)"], rows)
    + f"\n\nFrom {data['paper']}; read at {data['source']} Selection: {data['selection']}."
  )

"""Label sets that differ: partial, open-set and universal adaptation, and published numbers."""

from tools.docs_tables.common import (
  accuracies,
  by_method,
  find_runs,
  load_json,
  markdown_table,
  mean_std,
  signed_points,
)


def published_label_sets() -> str:
  """Published label-set numbers (in %, other data and networks), with how each was selected."""
  data = load_json("references", "published_label_sets.json")
  rows = [
    [r["setting"], r["data"], r["method"], r["paper"], r["tllib"], r["selection"]]
    for r in data["rows"]
  ]
  header = ["setting", "data and measure", "method", "original paper", "TLlib", "selection"]
  return markdown_table(header, rows)


LABEL_SET_METHODS = ("source_only", "dann", "cdan", "pada", "osbp", "ovanet", "uan", "target_only")


def label_set_table(setting: str, pair: str = "digits_to_digits_m") -> str:
  """One label-set protocol on one pair: each method's measures over seeds, final checkpoints."""
  by = by_method(find_runs("label_sets", setting, pair))
  open_set = setting != "partial"
  measures = (
    [("target_test_hos", "HOS"), ("target_test_os_star", "OS*"), ("target_test_unk", "UNK"),
     ("target_test_accuracy", "accuracy")]
    if open_set
    else [("target_test_accuracy", "accuracy"), ("mean_class_recall", "mean class recall")]
  )  # fmt: skip
  rows = []
  for name in LABEL_SET_METHODS:
    if name not in by:
      continue
    runs = by[name]
    cells = []
    for key, _ in measures:
      if key == "mean_class_recall":
        values = [runs[s]["final"]["target_test"]["mean_class_recall"] for s in sorted(runs)]
      else:
        values = accuracies(runs, key)
      cells.append(mean_std(values))
    per_seed = ", ".join(f"{v:.3f}" for v in accuracies(runs, measures[0][0]))
    rows.append([f"{name} (oracle)" if name == "target_only" else name, *cells, per_seed])
  header = ["method", *[f"{label} (mean ± sample std)" for _, label in measures],
            f"per seed ({measures[0][1]})"]  # fmt: skip
  return markdown_table(header, rows)


def _never_unknown(runs: dict[int, dict]) -> bool:
  """Whether a method predicted "unknown" for no target example on any seed (a closed-set method:
  its UNK and HOS are 0 by construction)."""
  return not accuracies(runs, "target_test_unk").any()


def label_set_verdicts(setting: str, pair: str = "digits_to_digits_m") -> str:
  """Each adaptation method against source only on the setting's headline measure; for a method
  that never predicts unknown, also on OS*, the known classes."""
  by = by_method(find_runs("label_sets", setting, pair))
  key, label = (
    ("target_test_accuracy", "accuracy") if setting == "partial" else ("target_test_hos", "HOS")
  )
  so = by["source_only"]

  def versus(runs: dict, key: str) -> tuple[float, int, int]:
    seeds = sorted(set(runs) & set(so))
    worse = sum(runs[s][key] < so[s][key] for s in seeds)
    return accuracies(runs, key).mean() - accuracies(so, key).mean(), worse, len(seeds)

  def verdict(gain: float, worse: int) -> str:
    if abs(gain) < 1e-9:
      return "no change"
    return "**negative transfer**" if gain < 0 else "helps" if worse == 0 else "mixed"

  lines = []
  for name in LABEL_SET_METHODS:
    if name in ("source_only", "target_only") or name not in by:
      continue
    gain, worse, n = versus(by[name], key)
    line = (
      f"- `{name}`: {signed_points(gain)} points of {label} over source only, worse on {worse} of "
    )
    if setting != "partial" and _never_unknown(by[name]):
      known, worse_known, n_known = versus(by[name], "target_test_os_star")
      lines.append(
        f"{line}{n} seeds: it never predicts unknown; on the known classes (OS*) "
        f"{signed_points(known)} points, worse on {worse_known} of {n_known} seeds: "
        f"{verdict(known, worse_known)}."
      )
    else:
      lines.append(f"{line}{n} seeds: {verdict(gain, worse)}.")
  return "\n".join(lines)


LABEL_SET_PAIRS = {"digits_to_digits_m": "digits → digits-M", "mnist_to_mnist_m": "MNIST → MNIST-M"}


def _label_set_cell(by: dict, name: str, setting: str) -> str:
  """One method's headline measure on one setting (OS* beside it for a method that never predicts
  unknown; the seed count where it is not 3)."""
  if name not in by:
    return "not run yet"
  key, label = (
    ("target_test_accuracy", "accuracy") if setting == "partial" else ("target_test_hos", "HOS")
  )
  cell = f"{label} {mean_std(accuracies(by[name], key))}"
  if setting != "partial" and _never_unknown(by[name]):
    cell += f" (no unknown; OS* {mean_std(accuracies(by[name], 'target_test_os_star'))})"
  if len(by[name]) != 3:
    cell += f" ({len(by[name])} seed{'s' if len(by[name]) > 1 else ''})"
  return cell


def label_sets_summary() -> str:
  """The README's rows for label sets that differ: a row group per setting, a column per pair."""
  papers = {
    "pada": "Cao et al. 2018", "osbp": "Saito et al. 2018", "ovanet": "Saito & Saenko 2021",
    "uan": "You et al. 2019",
  }  # fmt: skip
  rows = []
  for setting, words in (("partial", "partial set: target 0-4"),
                         ("openset", "open set: source 0-5, target 0-9"),
                         ("universal", "universal: source 0-7, target 3-9")):  # fmt: skip
    by_pair = {}
    for pair in LABEL_SET_PAIRS:
      try:
        by_pair[pair] = by_method(find_runs("label_sets", setting, pair))
      except FileNotFoundError:
        by_pair[pair] = {}
    for name in LABEL_SET_METHODS:
      if name in by_pair["digits_to_digits_m"]:
        link = f"[`{name}`](tljax/methods/{name}.py)"
        cells = [_label_set_cell(by, name, setting) for by in by_pair.values()]
        rows.append([words, link, papers.get(name, "–"), *cells])
  header = ["setting (`configs/<pair>.py:...`)", "`method.name`", "paper",
            *[f"{words}, 3 seeds" for words in LABEL_SET_PAIRS.values()]]  # fmt: skip
  return markdown_table(header, rows)

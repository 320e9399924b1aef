"""Test-time adaptation: online error per corruption, learning rates, long streams."""

import numpy as np

from tools.docs_tables.common import load_json, markdown_table, mean_std, result_dirs

TTA_RUNS = (  # (method, mode) in the order of the table's columns.
  ("source", "continual"), ("adabn", "continual"), ("adabn", "episodic"), ("tent", "continual"),
  ("tent", "episodic"), ("eata", "continual"), ("eata", "episodic"),
)  # fmt: skip


def _tta(*parts: str) -> dict:
  return load_json("tta", *parts, "results.json")


def tta_source() -> str:
  """The source run the MNIST-C methods start from."""
  r = load_json("tta", "source_mnist_bn", "results.json")
  return (
    f"Source run (`source_only`, BatchNorm, {r['steps']:,} steps, seed {r['seed']}): MNIST test "
    f"accuracy {r['source_test_accuracy']:.3f}, MNIST-M test accuracy "
    f"{r['target_test_accuracy']:.3f}."
  )


def tta_source_mnist_m(directory: str = "source_mnist_m_bn") -> str:
  """The MNIST-M-trained run the colour-corruption methods start from."""
  r = _tta(*directory.split("/"))
  return (
    f"Source run (`target_only` on MNIST-M's training labels, BatchNorm, {r['steps']:,} steps, "
    f"seed {r['seed']}): clean MNIST-M test accuracy {r['target_test_accuracy']:.3f}."
  )


def tta_corruptions(directory: str = "mnist_c") -> str:
  """Online error per corruption, each method and mode under docs/results/tta/`directory`; the
  mean over corruptions last."""
  found = {(m, mode): _tta(directory, f"{m}_{mode}") for m, mode in TTA_RUNS}
  targets = found[TTA_RUNS[0]]["plan"]["targets"]
  header = ["corruption"] + [_column(m, mode) for m, mode in found]
  rows = []
  for name in targets:
    row = [name.split("/")[1]]
    row += [f"{_first_pass_error(r, name):.3f}" for r in found.values()]
    rows.append(row)
  rows.append(["**mean**"] + [f"**{r['mean_error_first_pass']:.3f}**" for r in found.values()])
  return markdown_table(header, rows)


def _first_pass_error(run: dict, target: str) -> float:
  return 1 - next(p["accuracy"] for p in run["accuracy"] if p["target"] == target and not p["pass"])


def _column(method: str, mode: str) -> str:
  return f"{method} ({mode})" if method != "source" else "source"


def _severities(directory: str) -> dict[int, str]:
  """{severity: its folder} under docs/results/tta/`directory` (`severity=S`)."""
  found = result_dirs("tta", directory)
  return {int(d.removeprefix("severity=")): d for d in found if d.startswith("severity=")}


def tta_severities(directory: str = "mnist_m_severities") -> str:
  """Mean online error over the corruptions at each severity, for every method and mode."""
  rows = []
  for severity, folder in sorted(_severities(directory).items()):
    errors = [
      _tta(directory, folder, f"{m}_{mode}")["mean_error_first_pass"] for m, mode in TTA_RUNS
    ]
    rows.append([str(severity)] + [f"{e:.3f}" for e in errors])
  return markdown_table(["severity"] + [_column(m, mode) for m, mode in TTA_RUNS], rows)


def tta_severity_corruptions(directory: str = "mnist_m_severities") -> str:
  """Online error per corruption and severity: the source network's, then Tent's (continual)."""
  severities = sorted(_severities(directory).items())
  runs = {
    s: {m: _tta(directory, d, f"{m}_continual") for m in ("source", "tent")} for s, d in severities
  }
  rows = []
  for target in runs[severities[0][0]]["source"]["plan"]["targets"]:  # builder/name_severity
    stem = target.rsplit("_", 1)[0]
    row = [stem.split("/")[1]]
    for s, _ in severities:
      source, tent = (_first_pass_error(r, f"{stem}_{s}") for r in runs[s].values())
      row.append(f"{source:.3f} → {tent:.3f}")
    rows.append(row)
  return markdown_table(["corruption"] + [f"severity {s}" for s, _ in severities], rows)


def tta_seeds(
  seed_zero: tuple = ("mnist_m_severities", "severity=5"),
  seed_zero_source: tuple = ("mnist_m_severities", "source"),
  seeds: str = "mnist_m_seeds",
  clean: str = "MNIST-M",
) -> str:
  """Mean online error per source run and stream order (seed), mean ± std last.

  Seed 0's runs are in docs/results/tta/`seed_zero` (its source run in `seed_zero_source`);
  another seed S has its runs and its own source run (`source`) in `seeds`/seed=S. `clean`
  names the uncorrupted test set whose error the source run reports: MNIST-M (its target) or
  MNIST (its source)."""
  runs = {0: (seed_zero, seed_zero_source)}
  for d in result_dirs("tta", seeds):
    runs[int(d.removeprefix("seed="))] = ((seeds, d), (seeds, d, "source"))
  accuracy = "target_test_accuracy" if clean == "MNIST-M" else "source_test_accuracy"
  rows, errors = [], []
  for seed, (path, source) in sorted(runs.items()):
    errors.append([_tta(*path, f"{m}_{mode}")["mean_error_first_pass"] for m, mode in TTA_RUNS])
    clean_error = 1 - _tta(*source)[accuracy]
    rows.append([f"seed {seed}", f"{clean_error:.3f}"] + [f"{e:.3f}" for e in errors[-1]])
  rows.append([f"**mean ± std ({len(errors)} seeds)**", ""] + [
    f"**{mean_std(column)}**" for column in zip(*errors)
  ])  # fmt: skip
  header = ["source run and stream", f"clean {clean} error"]
  return markdown_table(header + [_column(m, mode) for m, mode in TTA_RUNS], rows)


def tta_learning_rates() -> str:
  """Tent (continual) at four learning rates: mean online error over the corruptions."""
  runs = {
    float(d.removeprefix("tent_lr")): _tta("mnist_c_lr", d)
    for d in result_dirs("tta", "mnist_c_lr")
  }
  runs[_tta("mnist_c", "tent_continual")["plan"]["lr"]] = _tta("mnist_c", "tent_continual")
  rows = [[f"{lr:g}", f"{runs[lr]['mean_error_first_pass']:.3f}"] for lr in sorted(runs)]
  return markdown_table(["Tent learning rate", "mean online error"], rows)


def tta_long(directory: str = "mnist_c_long") -> str:
  """A corruption sequence many times over (docs/results/tta/`directory`): online accuracy per
  pass, and the top class's share."""
  runs = {m: _tta(directory, m) for m in ("tent", "eata")}
  passes = runs["tent"]["plan"]["repeats"]
  rows = []
  for k in range(passes):
    row = [str(k + 1)]
    for r in runs.values():
      accs = [p["accuracy"] for p in r["accuracy"] if p["pass"] == k]
      share = [x for x, q in zip(r["batches"]["top_class_share"], r["batches"]["pass"]) if q == k]
      row += [f"{np.mean(accs):.3f}", f"{np.mean(share):.2f}"]
    rows.append(row)
  header = ["pass"] + [f"{m} {what}" for m in runs for what in ("accuracy", "top-class share")]
  verdicts = []
  for m, r in runs.items():
    first, last = (
      np.mean([p["accuracy"] for p in r["accuracy"] if p["pass"] == k]) for k in (0, passes - 1)
    )
    collapsed = last < first - 0.05 or max(r["batches"]["top_class_share"]) > 0.5
    verdicts.append(
      f"{m} (learning rate {r['plan']['lr']:g}): {first:.3f} in the first pass, {last:.3f} in "
      f"the last: " + ("**it collapsed**" if collapsed else "no collapse on this stream")
    )
  return markdown_table(header, rows) + "\n\n" + "; ".join(verdicts) + "."

"""The other kinds of transfer: instance weighting, fine-tuning, distillation, source ranking."""

from tools.docs_tables.common import (
  accuracies,
  by_method,
  find_runs,
  load_json,
  markdown_table,
  mean_std,
  not_yet,
)


def instance_weighting() -> str:
  """Instance weighting under a selection bias (configs/iw_digits.py), 3 seeds."""
  by = by_method(find_runs("iw_digits"))
  inputs = by_method(find_runs("iw_digits_variants", "inputs"))
  rows = []
  for label, runs in (
    ("source only", by["source_only"]),
    ("`iw_erm` (domain classifier on features)", by["iw_erm"]),
    ("`iw_erm` on 8x8 pooled pixels (`on=inputs`)", inputs["iw_erm"]),
    ("`kmm` (8x8 pixels)", by["kmm"]),
    ("`kliep` (8x8 pixels, 100 centres)", by["kliep"]),
    ("target only (all 599 unbiased digits, labelled)", by["target_only"]),
  ):
    acc = accuracies(runs)
    rows.append([label, mean_std(acc), ", ".join(f"{a:.3f}" for a in acc)])
  return markdown_table(["method", "target test acc (3 seeds)", "per seed"], rows)


def finetune_table(name: str) -> str:
  """experiments.finetune's accuracy per label budget and mode (mean ± std over seeds)."""
  results = load_json("finetune", name, "results.json")
  accuracy = results["accuracy"]
  modes = list(accuracy)
  keys = sorted(
    {k for cells in accuracy.values() for k in cells},
    key=lambda k: (k == "all", int(k) if k != "all" else 0),
  )
  rows = []
  for k in keys:
    row = [k]
    for mode in modes:
      cell = accuracy[mode].get(k)
      row.append("–" if cell is None else mean_std(list(cell["per_seed"].values())))
    rows.append(row)
  seeds = sorted({r["seed"] for r in results["runs"]})
  table = markdown_table(["labels per class", *modes], rows)
  pre = results["pretrained_target_test_accuracy"]
  return table + (
    f"\n\nMean ± sample std over seeds {seeds}; final checkpoints. The pretrained network "
    f"alone (no target labels): {pre:.3f} on the target test set."
  )


def finetune_verdicts(name: str) -> str:
  results = load_json("finetune", name, "results.json")
  return "\n".join(f"- {v}" for v in results["verdicts"])


def distillation() -> str:
  """distill from the digits benchmark's self-training run, seed 0, beside its baselines."""
  student = accuracies(by_method(find_runs("distill_digits"))["distill"])
  bench = by_method(find_runs("methods", "digits_to_digits_m"))
  teacher = bench["self_training"][0]["target_test_accuracy"]
  rows = [
    ["teacher: the benchmark's `self_training` run, seed 0", f"{teacher:.3f}", "1"],
    ["`distill` (T = 2, trade-off 1)", mean_std(student), str(len(student))],
    [
      "source only",
      mean_std(accuracies(bench["source_only"])),
      str(len(bench["source_only"])),
    ],
    ["DANN", mean_std(accuracies(bench["dann"])), str(len(bench["dann"]))],
  ]
  return markdown_table(["", "target test acc", "seeds"], rows)


def ranking() -> str:
  """Source ranking: each candidate's scores and fine-tuned accuracy, then each score's quality."""
  data = load_json("ranking", "ranking.json")
  names = ("logme", "leep", "nce", "h_score")
  rows = []
  for run, scores in sorted(data["scores"].items(), key=lambda kv: -kv[1]["logme"]):
    label = run.split("runs/")[-1]
    rows.append(
      [label, *[f"{scores[n]:.3f}" for n in names], f"{scores['finetuned_accuracy']:.3f}"]
    )
  first = markdown_table(["candidate", *names, "fine-tuned acc"], rows)
  rows = [
    [n, f"{v['kendall_tau']:.2f}", v["top_ranked"].split("runs/")[-1], f"{v['accuracy_lost']:.3f}"]
    for n, v in data["validation"].items()
  ]
  second = markdown_table(
    ["score", "Kendall's τ with fine-tuned acc", "its top pick", "accuracy lost vs the best"], rows
  )
  return first + "\n\n" + second


def other_kinds() -> str:
  """The README's table of the other kinds of transfer, one line of results each."""
  iw = by_method(find_runs("iw_digits"))

  def finetune_cell() -> str:
    acc = load_json("finetune", "digits", "results.json")["accuracy"]
    cell = lambda m, k: mean_std(list(acc[m][k]["per_seed"].values()))  # noqa: E731
    seeds = len(acc["finetune"]["5"]["per_seed"])
    return f"digits → digits-M, 5 / 50 labels per class, {seeds} seed(s): " + "; ".join(
      f"{m} {cell(m, '5')} / {cell(m, '50')}" for m in ("target_only", "finetune", "linear_probe")
    )

  def distill_cell() -> str:
    distill = accuracies(by_method(find_runs("distill_digits"))["distill"])
    return f"digits → digits-M from the self-training run as teacher, 3 seeds: {mean_std(distill)}"

  def co_tuning_cell() -> str:
    parity = load_json("finetune", "parity_mnist_mnistm", "results.json")["accuracy"]
    cell = lambda m, k: mean_std(list(parity[m][k]["per_seed"].values()))  # noqa: E731
    return "MNIST digits → MNIST-M even/odd, 5 / 50 labels per class: " + ", ".join(
      f"{m} {cell(m, '5')} / {cell(m, '50')}" for m in ("co_tuning", "finetune")
    )

  def ranking_cell() -> str:
    rank = load_json("ranking", "ranking.json")["validation"]
    return "Kendall's τ with fine-tuned accuracy: " + ", ".join(
      f"{n} {v['kendall_tau']:.2f}" for n, v in rank.items()
    )

  rows = [
    [
      "instance: density-ratio weights",
      ", ".join(f"[`{m}`](tljax/methods/{m}.py)" for m in ("iw_erm", "kmm", "kliep")),
      "Shimodaira 2000; Huang et al. 2007; Sugiyama et al. 2008",
      "digits with a stroke-mass selection bias → unbiased digits, 3 seeds: "
      + ", ".join(
        f"{m} {mean_std(accuracies(iw[m]))}" for m in ("source_only", "iw_erm", "kmm", "kliep")
      ),
    ],
    [
      "model: pretrained start",
      "`experiments.finetune` modes (also `l2sp`, `lp_ft`, `bss`, `delta`)",
      "Li et al. 2018; Kumar et al. 2022; Chen et al. 2019; Li et al. 2019",
      not_yet(finetune_cell, "fine-tuning-modes-mnist--mnist-m"),
    ],
    [
      "relation: teacher",
      "[`distill`](tljax/methods/distill.py)",
      "Hinton et al. 2015",
      not_yet(distill_cell, "distillation-from-an-adapted-teacher-digits--digits-m"),
    ],
    [
      "relation: label sets",
      "[`co_tuning`](tljax/methods/co_tuning.py)",
      "You et al. 2020",
      not_yet(co_tuning_cell, "fine-tuning-modes-mnist--mnist-m"),
    ],
    [
      "ranking sources",
      "`python -m experiments.rank_sources`",
      "You et al. 2021; Nguyen et al. 2020; Tran et al. 2019; Bao et al. 2019",
      not_yet(ranking_cell, "ranking-candidate-sources-before-fine-tuning"),
    ],
  ]
  return markdown_table(["kind", "where", "paper", "measured here (target test accuracy)"], rows)

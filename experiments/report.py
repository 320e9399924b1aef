"""Source-only vs adapted vs oracle, with the transfer gain and a plain verdict.

    python -m experiments.report --workdir runs/mnist_to_mnist_m

Reads every finished results.json under WORKDIR, groups them by method (each
method other than source_only/target_only counts as an adaptation), and
writes WORKDIR/report.md (also printed): target test accuracy per method
(mean over seeds), the gain over source-only, the fraction of the
source-only-to-oracle gap closed, the proxy A-distance of each method's
final features (source_test vs target_test; computed from the final
checkpoint and added to results.json for runs that lack it), and a
sentence that says NEGATIVE TRANSFER when adaptation made the target worse
than source-only. Each run directory also gets `health.png` (losses, domain
accuracy per domain, λ, lr and evaluations vs step) and `tsne.png` (t-SNE of
1,000 test features per domain, coloured by domain and by class).
`--reverse_validation_steps N` also scores the final checkpoint of runs with a
source_val split by the DANN paper's reverse validation (a reverse DANN
trained N steps; tljax/train/reverse.py), for the validator tables.
"""

import argparse
import glob
import os
import sys

import numpy as np

from tljax import files
from tljax.analysis import runs as runs_lib
from tljax.analysis import tables, transfer
from tljax.errors import ConfigError, DataError
from tljax.run import cli
from tljax.run import finished as finished_run

BASELINES = ("source_only", "target_only")


def per_seed(runs: list[dict], method: str) -> dict[int, float]:
  return {r["seed"]: r["target_test_accuracy"] for r in runs if r["method"] == method}


def report(runs: list[dict]) -> str:
  """Markdown report for the runs of one source -> target pair."""
  source, target = runs[0]["source"], runs[0]["target"]
  so, oracle = per_seed(runs, "source_only"), per_seed(runs, "target_only")
  lines = [f"## {source} → {target}", ""]
  if not so:
    return "\n".join(lines + ["No source_only runs: cannot tell whether transfer helped."])
  lines += [
    "| method | target test acc | seeds | gain vs source-only | gap closed | PAD (features) |",
    "|---|---|---|---|---|---|",
  ]
  methods = sorted({r["method"] for r in runs}, key=lambda m: tables.ORDER.get(m, 1))
  for method in methods:
    accs = per_seed(runs, method)
    row = f"| {method} | {np.mean(list(accs.values())):.3f} | {len(accs)} |"
    if method in BASELINES:
      row += " | |"
    else:
      s = transfer.transfer_summary(so, accs, oracle)
      closed = f"{100 * s['gap_closed']:.0f}%" if s["gap_closed"] is not None else "-"
      row += f" {100 * s['gain']:+.1f} points | {closed} |"
    lines.append(f"{row} {_pad_of(runs, method)} |")
  lines.append("")
  for method in methods:
    if method not in BASELINES:
      verdict = transfer.transfer_summary(so, per_seed(runs, method), oracle)["verdict"]
      lines.append(f"- **{method}**: {verdict}")
  return "\n".join(lines)


def _pad_of(runs: list[dict], method: str) -> str:
  values = [
    r["proxy_a_distance"]["features"]
    for r in runs
    if r["method"] == method and (r.get("proxy_a_distance") or {}).get("features") is not None
  ]
  return f"{np.mean(values):.2f}" if values else "-"


def analyse_runs(workdir: str, reverse_validation_steps: int = 0) -> None:
  """Adds what finished runs lack: the PAD in results.json, health.png, tsne.png.

  With `reverse_validation_steps`, also the final checkpoint's network-level reverse
  validation score (`validators.reverse_dann`) for runs with a source_val split.
  """
  from tljax.run import workdir as workdir_lib  # pylint: disable=g-import-not-at-top

  for path in sorted(glob.glob(os.path.join(workdir, "**", "results.json"), recursive=True)):
    run = os.path.dirname(path)
    try:
      with workdir_lib.locked(run):  # Not while a run (or another report) writes there.
        _analyse_run(run, path, reverse_validation_steps)
    except ConfigError as e:
      print(f"warning: not analysing {run}: {e}", file=sys.stderr)


def _analyse_run(run: str, path: str, reverse_validation_steps: int) -> None:
  """`analyse_runs` for one run, under its workdir's lock."""
  from tljax.analysis import plots as plots_lib  # pylint: disable=g-import-not-at-top
  from tljax.run import evaluation  # pylint: disable=g-import-not-at-top

  results = files.read_json(path)  # A damaged file is named and skipped.
  if results is None or results.get("status") != "finished":
    return
  r = results
  drawn = {}
  title = f"{r['source']} → {r['target']}, {r['method']}, seed {r['seed']}"
  if not os.path.exists(os.path.join(run, "health.png")):
    plots_lib.health_curves(
      os.path.join(run, "metrics.jsonl"),
      os.path.join(run, "health.png"),
      title,
      evals=_evaluations(results),
    )
    drawn["report/health"] = os.path.join(run, "health.png")
  need_tsne = not os.path.exists(os.path.join(run, "tsne.png"))
  scores = results.get("validators") or {}
  need_reverse = bool(reverse_validation_steps and scores and "reverse_dann" not in scores)
  if "proxy_a_distance" in results and not need_tsne and not need_reverse:
    _to_tensorboard(run, r["steps"], drawn)
    return
  try:
    config, state, data, evaluator = finished_run.load(run, results)
  except DataError as e:  # E.g. its checkpoints were deleted: tabulate it, analyse the rest.
    print(f"warning: not analysing {run}: {e}", file=sys.stderr)
    return
  if "proxy_a_distance" not in results:
    results["proxy_a_distance"] = evaluation.domain_discrepancy(evaluator, state, data, config.seed)
  if need_reverse:
    add_reverse_dann(results, config, evaluator, state, data, reverse_validation_steps)
  files.write_json(path, results)
  if need_tsne:
    first = lambda a: {k: v[:1000] for k, v in a.items()}  # noqa: E731
    plots_lib.tsne_plot(
      *[(evaluator.outputs(state, first(a))[1], first(a)["label"])
        for a in (data.source_test, data.target_test)],
      png_path=os.path.join(run, "tsne.png"),
      title=f"{title}: test features",
    )  # fmt: skip
    drawn["report/tsne"] = os.path.join(run, "tsne.png")
  _to_tensorboard(run, r["steps"], drawn)
  print(f"analysed {run}", file=sys.stderr)


def _to_tensorboard(run: str, step: int, pngs: dict) -> None:
  """The figures just drawn, as images in the run's TensorBoard events too."""
  if not pngs:
    return
  from PIL import Image  # pylint: disable=g-import-not-at-top

  from tljax import metrics  # pylint: disable=g-import-not-at-top

  board = metrics.TensorBoard(run)
  if board:
    board.images(step, {tag: np.asarray(Image.open(p).convert("RGB")) for tag, p in pngs.items()})
    board.close()


def add_reverse_dann(results: dict, config, evaluator, state, data, steps: int) -> None:
  """Scores the final checkpoint by reverse validation; updates the picks."""
  from tljax.run import evaluation, reverse  # pylint: disable=g-import-not-at-top

  score = round(reverse.reverse_validation(config, evaluator, state, data, steps), 5)
  results["validators"]["reverse_dann"] = score
  results["reverse_validation_steps"] = steps
  final = results["eval_history"][-1]
  if final["step"] == results["steps"] and "validators" in final:
    final["validators"]["reverse_dann"] = score
  results["selected_by_validator"] = evaluation.selections(results["eval_history"])


def _evaluations(results: dict) -> list[dict]:
  """eval_history with the final evaluation (older runs left it out)."""
  evals = list(results.get("eval_history") or [])
  if not evals or evals[-1]["step"] != results["steps"]:
    evals.append(
      {
        "step": results["steps"],
        "source_test_accuracy": results["source_test_accuracy"],
        "target_test_accuracy": results["target_test_accuracy"],
      }
    )
  return evals


def main(argv: list[str]) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument(
    "--no_analysis",
    action="store_true",
    help="only tabulate: do not add missing PADs or write health.png / tsne.png",
  )
  parser.add_argument(
    "--reverse_validation_steps",
    type=int,
    default=0,
    help="add the DANN paper's reverse validation (a reverse DANN trained this many steps) "
    "to finished runs with a source_val split that lack it",
  )
  parser.add_argument(
    "--noxla_cpu_fast", action="store_true", help="do not add the XLA:CPU YNN flag (see README)"
  )
  args = parser.parse_args(argv[1:])
  cli.start_analysis(fast_cpu=not args.noxla_cpu_fast)
  if not args.no_analysis:
    analyse_runs(args.workdir, args.reverse_validation_steps)
  found = [run.results for run in runs_lib.find([args.workdir])]
  if not found:
    sys.exit(f"error: no finished results.json under {args.workdir}")
  pairs = {}
  for r in found:
    pairs.setdefault((r["source"], r["target"]), []).append(r)
  text = "\n\n".join(report(runs) for _, runs in sorted(pairs.items())) + "\n"
  print(text, end="")
  try:
    files.write_text(os.path.join(args.workdir, "report.md"), text)
  except OSError as e:  # A read-only copy of finished runs: the report is printed only.
    print(f"warning: report.md not written ({e.strerror}); printed above", file=sys.stderr)


if __name__ == "__main__":
  main(sys.argv)

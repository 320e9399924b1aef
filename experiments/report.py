"""Source-only vs adapted vs oracle, with the transfer gain and a plain verdict.

    python -m experiments.report --workdir runs/mnist_to_mnist_m

Reads every finished results.json under WORKDIR, groups them by method (each
method other than source_only/target_only counts as an adaptation), and
writes WORKDIR/report.md (also printed): target test accuracy per method
(mean over seeds), the gain over source-only, the fraction of the
source-only-to-oracle gap closed, the proxy A-distance where the runs
recorded it, and a sentence that says NEGATIVE TRANSFER when adaptation made
the target worse than source-only.
"""

import argparse
import os
import sys

import numpy as np

from experiments import summarize
from tljax.analysis import transfer

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
  methods = sorted({r["method"] for r in runs}, key=lambda m: summarize.ORDER.get(m, 1))
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
    if r["method"] == method and "proxy_a_distance" in r
  ]
  return f"{np.mean(values):.2f}" if values else "-"


def main(argv: list[str]) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  args = parser.parse_args(argv[1:])
  found = [r for _, r in summarize.load_results([args.workdir])]
  if not found:
    sys.exit(f"error: no finished results.json under {args.workdir}")
  pairs = {}
  for r in found:
    pairs.setdefault((r["source"], r["target"]), []).append(r)
  text = "\n\n".join(report(runs) for _, runs in sorted(pairs.items())) + "\n"
  with open(os.path.join(args.workdir, "report.md"), "w") as f:
    f.write(text)
  print(text, end="")


if __name__ == "__main__":
  main(sys.argv)

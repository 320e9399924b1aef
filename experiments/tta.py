"""Test-time adaptation: a finished source run adapts while it predicts target test sets.

    python -m experiments.tta --source_run runs/mnist_bn/source_only/seed0 \\
        --targets mnist_m_corruptions/fog_5,mnist_m_corruptions/jpeg_5 \\
        --method tent --mode continual --workdir runs/tta/tent

Streams each target's test set once in batches (seeded order), predicts a
batch and adapts on it, and reports the online accuracy (every example
predicted once). `--mode episodic` resets to the source weights after every
batch; `--repeats N` passes over the target sequence N times (a long
continual stream, to see whether the method collapses). `--method source`
predicts without adapting. Methods: tent, adabn, eata (tljax/methods/), on a
source run trained with `--config.model.norm=batch`. Writes
WORKDIR/results.json and WORKDIR/online_accuracy.png.
"""

import argparse
import os
import sys

from tljax.run import cli, tta


def main(argv: list[str]) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--source_run", required=True, help="workdir of a finished run")
  parser.add_argument("--targets", required=True, help="comma-separated TFDS names, in order")
  parser.add_argument("--method", default="tent", help="tent, adabn, eata or source")
  parser.add_argument("--mode", default="continual", help="continual or episodic")
  parser.add_argument("--repeats", type=int, default=1, help="passes over the target sequence")
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--lr", type=float, default=1e-3)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--data_dir", default=None, help="TFDS data dir")
  parser.add_argument("--manual_dir", default=None, help="e.g. the MNIST IDX files")
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--verbose", action="store_true")
  args = parser.parse_args(argv[1:])
  cli.start_analysis()
  plan = tta.Plan(
    source_run=args.source_run,
    targets=tuple(t for t in args.targets.split(",") if t),
    method=args.method,
    mode=args.mode,
    repeats=args.repeats,
    batch_size=args.batch_size,
    lr=args.lr,
    seed=args.seed,
  )

  def go():
    tta.check(plan)  # Before anything is written.
    results = tta.run(plan, args.data_dir, args.manual_dir)
    tta.write(results, args.workdir)
    print(f"mean online error over the targets: {results['mean_error_first_pass']:.4f}")
    print(f"wrote {os.path.join(args.workdir, 'results.json')}")

  if args.verbose:
    go()
  else:
    cli.exit_on_user_error(go)


if __name__ == "__main__":
  main(sys.argv)

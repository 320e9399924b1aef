"""Ranks candidate pretrained runs for a labelled target before fine-tuning any of them.

    python -m experiments.rank_sources --target=digits_m \\
        --candidates runs/pre/digits_300 runs/pre/mnist_3000 ... --out runs/ranking \\
        [--finetuned runs/ft/digits_300 runs/ft/mnist_3000 ...]

Each candidate is a finished tljax run (its workdir). Its final model reads the
target's labelled training split once (at most --max_examples images, resized
to the candidate's input size) and is scored by LogME, LEEP, NCE and H-score
(tljax/analysis/transferability.py; higher is better). Writes OUT/ranking.md
(the table, best LogME first) and OUT/ranking.json, and prints the table.
With --finetuned (each candidate's experiments.finetune workdir, fine-tuned
with the `finetune` mode), it adds Kendall's tau of each score with the
fine-tuned accuracy and the accuracy lost by fine-tuning the top-ranked
candidate instead of the best.
"""

import argparse
import os
import sys

from tljax import files
from tljax.run import cli, source_ranking


def main(argv: list[str]) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--target", required=True, help="target dataset (any data.target value)")
  parser.add_argument("--candidates", nargs="+", required=True, help="finished run directories")
  parser.add_argument("--split", default="train", help="target split with labels")
  parser.add_argument("--max_examples", type=int, default=5000, help="target examples scored")
  parser.add_argument("--out", default="runs/ranking", help="where ranking.md/json go")
  parser.add_argument(
    "--finetuned",
    nargs="*",
    default=[],
    help="validation: each candidate's experiments.finetune workdir, in the same order",
  )
  args = parser.parse_args(argv[1:])
  cli.start_analysis()
  if args.finetuned and len(args.finetuned) != len(args.candidates):
    sys.exit("error: give one --finetuned workdir per candidate, in the same order")
  ranked = {
    run: cli.exit_on_user_error(
      source_ranking.score, run, args.target, args.split, args.max_examples
    )
    for run in args.candidates
  }
  text = source_ranking.table(ranked)
  check = {}
  if args.finetuned:
    tuned = dict(zip(args.candidates, map(source_ranking.finetuned_accuracy, args.finetuned)))
    for run, (acc, seconds) in tuned.items():
      ranked[run] |= {"finetuned_accuracy": round(acc, 4), "finetune_seconds": round(seconds, 1)}
    check = source_ranking.validate(ranked, {r: a for r, (a, _) in tuned.items()})
    text += "\n\n| score | Kendall tau | top-ranked | accuracy lost vs best |\n|---|---|---|---|\n"
    text += "\n".join(
      f"| {n} | {v['kendall_tau']} | {v['top_ranked']} | {v['accuracy_lost']} |"
      for n, v in check.items()
    )
  os.makedirs(args.out, exist_ok=True)
  files.write_json(
    os.path.join(args.out, "ranking.json"),
    {"target": args.target, "scores": ranked, "validation": check},
  )
  files.write_text(os.path.join(args.out, "ranking.md"), text + "\n")
  print(text)


if __name__ == "__main__":
  main(sys.argv)

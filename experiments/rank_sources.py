"""Ranks candidate pretrained runs for a labelled target before fine-tuning any of them.

    python -m experiments.rank_sources --target=digits_m \\
        --candidates runs/pre/digits_300 runs/pre/mnist_3000 ... --out runs/ranking

Each candidate is a finished tljax run (its workdir). Its final model reads the
target's labelled training split once (at most --max_examples images, resized
to the candidate's input size) and is scored by LogME, LEEP, NCE and H-score
(tljax/analysis/transferability.py; higher is better). Writes OUT/ranking.md
(the table, best LogME first) and OUT/ranking.json, and prints the table.
"""

import os

from absl import app, flags

from experiments import cli, source_ranking
from tljax import files

_TARGET = flags.DEFINE_string("target", None, "Target dataset (any data.target value).")
_CANDIDATES = flags.DEFINE_multi_string("candidates", [], "Finished run directories.")
_SPLIT = flags.DEFINE_string("split", "train", "Target split with labels.")
_MAX = flags.DEFINE_integer("max_examples", 5000, "Target examples scored (the first ones).")
_OUT = flags.DEFINE_string("out", "runs/ranking", "Where ranking.md and ranking.json go.")
_FINETUNED = flags.DEFINE_multi_string(
  "finetuned", [], "Validation: each candidate's experiments.finetune workdir, in order."
)
flags.mark_flags_as_required(["target"])


def main(argv):
  cli.start()
  candidates = _CANDIDATES.value + argv[1:]  # Also accept the runs as positional arguments.
  if not candidates:
    raise app.UsageError("give the candidate runs: --candidates RUN_DIR [RUN_DIR ...]")
  ranked = {
    run: cli.exit_on_user_error(source_ranking.score, run, _TARGET.value, _SPLIT.value, _MAX.value)
    for run in candidates
  }
  text = source_ranking.table(ranked)
  check = {}
  if _FINETUNED.value:
    if len(_FINETUNED.value) != len(candidates):
      raise app.UsageError("give one --finetuned workdir per candidate, in the same order")
    tuned = dict(zip(candidates, map(source_ranking.finetuned_accuracy, _FINETUNED.value)))
    for run, (acc, seconds) in tuned.items():
      ranked[run] |= {"finetuned_accuracy": round(acc, 4), "finetune_seconds": round(seconds, 1)}
    check = source_ranking.validate(ranked, {r: a for r, (a, _) in tuned.items()})
    text += "\n\n| score | Kendall tau | top-ranked | accuracy lost vs best |\n|---|---|---|---|\n"
    text += "\n".join(
      f"| {n} | {v['kendall_tau']} | {v['top_ranked']} | {v['accuracy_lost']} |"
      for n, v in check.items()
    )
  os.makedirs(_OUT.value, exist_ok=True)
  files.write_json(
    os.path.join(_OUT.value, "ranking.json"),
    {"target": _TARGET.value, "scores": ranked, "validation": check},
  )
  files.write_text(os.path.join(_OUT.value, "ranking.md"), text + "\n")
  print(text)


if __name__ == "__main__":
  app.run(main)

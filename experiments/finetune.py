"""When is transfer worth it? Target-only vs fine-tuned vs linear probe, per label budget.

    python -m experiments.finetune --config configs/finetune_digits.py \\
        --workdir runs/finetune_digits

1. Pretrains on the labelled source (`source_only`, `finetune.pretrain_steps`
   steps) in WORKDIR/pretrain, unless `--config.finetune.pretrained=RUN` names
   a finished run to start from.
2. For every k in `finetune.labels_per_class` (0: all labels), mode in
   `finetune.modes` and seed in `finetune.seeds`, trains on k labelled target
   images per class (the same images for every mode of a seed) and tests on
   target test, in WORKDIR/k=<k>/<mode>/seed=<seed>:
     target_only   from scratch (the baseline)
     finetune      every weight starts from the pretrained run and is trained
     linear_probe  pretrained weights frozen except the output layer: a linear
                   classifier on the penultimate features
     l2sp          finetune + L2-SP toward the pretrained weights
                   (`finetune.l2sp_alpha`)
     lp_ft         linear probe, then finetune from the probe (Kumar et al. 2022)
     bss           finetune + Batch Spectral Shrinkage (Chen et al. 2019)
     delta         finetune + attention-weighted feature-map regularisation (Li et al. 2019)
     co_tuning     finetune + the pretrained head on translated labels (You et al. 2020)
3. Writes WORKDIR/results.json (accuracy per mode and k, negative-transfer
   flags), summary.md and accuracy_vs_labels.png, and prints the summary.
Finished runs are skipped on a rerun and unfinished ones resume.
"""

import logging
import os
import sys

from absl import app

from tljax import files
from tljax.analysis import runs as runs_lib
from tljax.run import cli
from tljax.run import finished as finished_run
from tljax.run.finetune import MODES, ordered_modes, pretrain_config, run_config, summary


def main(argv):
  del argv
  cli.start()
  from tljax.analysis import plots, transfer  # pylint: disable=g-import-not-at-top
  from tljax.data import splits  # pylint: disable=g-import-not-at-top

  log = logging.getLogger("tljax")
  config, root = cli.CONFIG.value, cli.WORKDIR.value
  if not root:
    sys.exit("error: give --workdir, the root of the pretraining and fine-tuning runs")
  ft = config.finetune
  unknown = [m for m in ft.modes if m not in MODES]
  if unknown:
    sys.exit(f"error: config.finetune.modes has {unknown}; choose from {list(MODES)}")
  loaded = []  # The splits, loaded once and only if something needs training.

  def data():
    if not loaded:
      loaded.append(cli.exit_on_user_error(splits.load_domains, config.data))
    return loaded[0]

  pretrained = ft.pretrained or os.path.join(root, "pretrain")
  from tljax.run import workdir as workdir_lib  # pylint: disable=g-import-not-at-top

  def reusable(point, workdir: str) -> bool:
    """Finished earlier with this very config (another config there is an error)."""
    if not runs_lib.finished(workdir):
      return False
    fix = "move it away, or give experiments.finetune another --workdir"
    cli.exit_on_user_error(workdir_lib.check_workdir_config, point, workdir, False, fix)
    return True

  if not ft.pretrained and not reusable(pretrain_config(config), pretrained):
    log.info(
      "pretraining on %s (%d steps) in %s", config.data.source, ft.pretrain_steps, pretrained
    )
    cli.train(pretrain_config(config), pretrained, data=data())
  pre = cli.exit_on_user_error(finished_run.results, pretrained)  # A finished run, or one line.
  modes = ordered_modes(ft.modes)
  plan = [(k, mode, seed) for k in ft.labels_per_class for mode in modes for seed in ft.seeds]
  runs = []
  for i, (k, mode, seed) in enumerate(plan):
    workdir = os.path.join(root, f"k={k}", mode, f"seed={seed}")
    probe = os.path.join(root, f"k={k}", "linear_probe", f"seed={seed}")
    point = run_config(config, mode, k, seed, pretrained, probe)
    if not reusable(point, workdir):
      log.info("[%d/%d] %d labels per class, %s, seed %d", i + 1, len(plan), k, mode, seed)
      cli.train(point, workdir, data=data())
    r = files.read_json(os.path.join(workdir, "results.json"))
    num_classes = len(r["final"]["target_test"]["per_class_recall"])  # The runs' (merged) ones.
    runs.append(
      {
        "mode": mode,
        "labels_per_class": "all" if k == 0 else k,
        "seed": seed,
        "labelled_train_examples": r["labelled_train_examples"],
        "target_test_accuracy": r["target_test_accuracy"],
      }
    )
  table = transfer.finetune_table(runs)
  per_class_of = {
    str(r["labels_per_class"]): r["labelled_train_examples"] / num_classes for r in runs
  }
  results = {
    "source": config.data.source,
    "target": config.data.target,
    "pretrained": pretrained,
    "pretrained_source_test_accuracy": pre["source_test_accuracy"],
    "pretrained_target_test_accuracy": pre["target_test_accuracy"],
    "pretrained_classes": len(pre["final"]["target_test"]["per_class_recall"]),
    "classes": num_classes,
    "selection": "final checkpoint of every run (no target test labels used to select)",
    "runs": runs,
    **table,
    "config": config.to_dict(),
  }
  files.write_json(os.path.join(root, "results.json"), results)
  png = os.path.join(root, "accuracy_vs_labels.png")
  title = f"{config.data.source} → {config.data.target}"
  plots.accuracy_vs_labels(table["accuracy"], png, per_class_of, title)
  text = summary(results, per_class_of)
  files.write_text(os.path.join(root, "summary.md"), text)
  print(text, end="")
  log.info("wrote %s, summary.md and %s", os.path.join(root, "results.json"), png)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)

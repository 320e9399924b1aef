"""The runs of experiments.finetune: modes, per-run configs and the summary table."""

import ml_collections

from tljax import models

MODES = ("target_only", "finetune", "linear_probe", "l2sp", "lp_ft", "bss", "delta", "co_tuning")
METHOD_MODES = ("bss", "delta", "co_tuning")  # Fine-tuning with a method file's objective.
SCRATCH = MODES[0]  # The baseline mode: trained from scratch on the same labelled images.


def ordered_modes(modes) -> list[str]:
  """`modes` with lp_ft after the linear_probe it starts from (added if missing)."""
  out = [m for m in modes if m != "lp_ft"]
  if "lp_ft" in modes:
    out += ([] if "linear_probe" in out else ["linear_probe"]) + ["lp_ft"]
  return out


def pretrain_config(config) -> ml_collections.ConfigDict:
  pre = config.copy_and_resolve_references()
  with pre.unlocked():
    pre.method.name = "source_only"
    pre.train.num_steps = config.finetune.pretrain_steps
    pre.train.eval_every = config.finetune.pretrain_steps
    pre.train.ckpt_every = config.finetune.pretrain_steps
    pre.seed = 0
    del pre["finetune"]
  return pre


def run_config(
  config, mode: str, k: int, seed: int, pretrained: str, probe: str | None = None
) -> ml_collections.ConfigDict:
  """The config of one fine-tuning run; only the mode's fields differ from target_only.

  lp_ft (Kumar et al. 2022) fine-tunes every weight starting from `probe`, the
  finished linear_probe run of the same labels and seed: the pretrained
  backbone with the probe's trained output layer. bss, delta and co_tuning
  fine-tune with their method file's objective (tljax/methods/<mode>.py).
  """
  run = config.copy_and_resolve_references()
  with run.unlocked():
    run.method.name = mode if mode in METHOD_MODES else "target_only"
    run.data.target_labels_per_class = k
    run.seed = seed
    if mode != SCRATCH:
      run.model.init_checkpoint = probe if mode == "lp_ft" else pretrained
    if mode == "linear_probe":
      run.model.freeze_backbone = True
      output_layer = models.output_layer(run.model)  # The head's other Dense layers: frozen.
      run.optim.param_groups = ((rf"^classifier/head/(?!{output_layer}/)Dense_", None),)
    if mode == "l2sp":
      run.optim.l2sp_alpha = config.finetune.l2sp_alpha
      run.optim.l2sp_beta = config.finetune.l2sp_beta
    del run["finetune"]
  return run


def summary(results: dict, per_class_of: dict) -> str:
  """Markdown: accuracy (mean ± std over seeds) per labels-per-class and mode, then verdicts."""
  accuracy = results["accuracy"]
  modes = list(accuracy)
  keys = sorted(per_class_of, key=per_class_of.get)
  pre_classes, classes = results["pretrained_classes"], results["classes"]
  other_task = (
    f" on its own {pre_classes} classes; fine-tuned on {classes} (config.data.merge_classes)"
    if pre_classes != classes
    else ""
  )
  lines = [
    f"## Fine-tuning {results['source']} → {results['target']}",
    "",
    f"Pretrained on {results['source']} only: target test accuracy "
    f"{results['pretrained_target_test_accuracy']:.3f} with no target labels{other_task}.",
    "",
    "| labels per class | " + " | ".join(modes) + " |",
    "|---|" + "---|" * len(modes),
  ]
  for k in keys:
    cells = []
    for mode in modes:
      cell = accuracy[mode].get(k)
      seeds = len(cell["per_seed"]) if cell else 0
      cells.append(f"{cell['mean']:.3f} ± {cell['std']:.3f}" if seeds > 1 else
                   f"{cell['mean']:.3f}" if cell else "-")  # fmt: skip
    lines.append(f"| {k} | " + " | ".join(cells) + " |")
  lines += ["", *[f"- {v}" for v in results["verdicts"]]]
  if not results["negative_transfer"]:
    lines.append("- No negative transfer: every pretrained mode matched or beat target-only.")
  seeds = sorted({r["seed"] for r in results["runs"]})
  lines += ["", f"Mean ± sample std over seeds {seeds}; final checkpoints."]
  return "\n".join(lines) + "\n"

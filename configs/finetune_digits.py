"""When is transfer worth it, on the embedded digits pair (offline, a few minutes on a CPU).

    python -m experiments.finetune --config configs/finetune_digits.py \\
        --workdir runs/finetune_digits

Pretrains the DANN digits network on labelled UCI digits (source only), then
trains on 1, 5, 10, 50 and all labelled digits-M images per class: from
scratch (target_only), fine-tuned from the pretrained weights, and as a linear
probe on its frozen penultimate features. See experiments/finetune.py.
Argument: `tiny` (tests).
"""

from configs import common, digits


def get_config(arg=None):
  args = common.parse_arg(arg, tiny=False)
  config = digits.get_config()
  common.finetune_recipe(config, num_steps=400, pretrain_steps=1500, seeds=(0,))
  if args.tiny:
    common.shrink_for_tests(config)
    config.train.eval_every = config.train.ckpt_every = config.train.num_steps
    config.finetune.pretrain_steps = 4
    config.finetune.labels_per_class = (1, 0)
    config.finetune.seeds = (0,)
  return config

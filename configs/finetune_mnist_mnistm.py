"""When is transfer worth it, MNIST -> MNIST-M: fine-tuning vs training from scratch.

    python -m experiments.finetune --config configs/finetune_mnist_mnistm.py \\
        --config.data.manual_dir=../shared/data/mnist --workdir runs/finetune_mnist_mnistm

Pretrains the DANN digits network on labelled MNIST (source only, 3,000
steps), then trains 1,000 steps on 1, 5, 10, 50 and all labelled MNIST-M
images per class: from scratch (target_only), fine-tuned from the MNIST
weights, and as a linear probe on their frozen penultimate features; two
seeds. Results: docs/finetuning.md, "When is transfer worth it?".
See experiments/finetune.py.
"""

from configs import common, mnist_mnistm


def get_config(arg=None):
  args = common.parse_arg(arg, tiny=False)
  config = mnist_mnistm.get_config()
  common.finetune_recipe(config, num_steps=1000, pretrain_steps=3000, seeds=(0, 1))
  if args.tiny:
    common.shrink_for_tests(config)
    config.train.eval_every = config.train.ckpt_every = config.train.num_steps
    config.finetune.pretrain_steps = 4
    config.finetune.labels_per_class = (1, 0)
  return config

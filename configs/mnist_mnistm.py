"""DANN on MNIST -> MNIST-M (Ganin et al. 2016, Table 2), offline backgrounds.

    python -m experiments.dann --config configs/mnist_mnistm.py \\
        --config.data.manual_dir=../shared/data/mnist

`manual_dir` holds the four MNIST IDX files (see tljax/data/builders/mnist.py);
on a machine with internet, leave it out and TFDS downloads MNIST. The target
is `mnist_m/offline` (photos bundled with scikit-learn/-image); set
`--config.data.target=mnist_m/bsds500` for Ganin's BSDS500 backgrounds.

Results (every method, 3 seeds, final checkpoints, wall time per run) are
generated from the committed runs in docs/results.md, "Method benchmark".

Any method: --config.method.name=NAME (tljax/methods/NAME.py), e.g.
    --config.method.name=source_only   (no domain loss)
    --config.method.name=target_only   (trained on labelled target: the oracle)
    --config.method.name=self_training (pseudo-labels, FixMatch-style)
Every method keeps its own defaults (its file names the recipe it follows and
what was changed for this network).

Arguments (after the colon, comma-separated): `paper` for the published plain recipe,
`tiny`, the label-set protocols `partial`, `openset`, `universal`, and `shot` (SHOT's source
model for the source-free methods), as configs/digits.py.
"""

from configs import common


def get_config(arg=None):
  args = common.parse_arg(
    arg, paper=False, tiny=False, partial=False, openset=False, universal=False, shot=False
  )
  config = common.base_config()
  config.data.source = "mnist"
  config.data.target = "mnist_m/offline"
  config.data.eval_batch_size = 1000
  # The benchmark's protocol: 1,000 labelled source train images held out for the label-free
  # validators, 1,000 target train images whose labels choose settings (oracle selection).
  config.data.source_val_size = 1000
  config.data.target_val_size = 1000
  config.train.num_steps = 6000
  config.train.log_every = 500
  config.train.eval_every = 2000
  config.train.ckpt_every = 1000
  # Evaluation with an EMA of the classifier's weights smooths the swings
  # between evaluations that adversarial training causes; it selects nothing.
  common.digits_recipe(config, paper=args.paper, ema_decay=0.999)
  common.label_sets(config, args)
  if args.shot:
    common.shot_source(config)
  if args.tiny:
    common.shrink_for_tests(config)
  return config

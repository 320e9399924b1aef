"""DANN on the embedded offline digits pair: UCI digits -> digits-M.

Needs no network: both datasets are built from data scikit-learn bundles.

    python -m experiments.dann --config configs/digits.py

Any method: --config.method.name=NAME (tljax/methods/NAME.py), e.g.
    --config.method.name=source_only   (no domain loss)
    --config.method.name=target_only   (trained on labelled target: the oracle)
    --config.method.name=self_training (pseudo-labels, FixMatch-style)

Expected (docs/results.md, method benchmark: 3 seeds, final checkpoint):
target test accuracy DANN 0.553 ± 0.019 (seed 0: 0.550), source only 0.519 ±
0.010, target only 0.962 ± 0.002, self-training 0.889 ± 0.027; about 2 min per
run on a 2-core x86 CPU. The recipe (per-image standardised input, ±2 px
shifts, a 500-500 domain classifier) changes three things from the paper's.

The paper's plain recipe is `--config configs/digits.py:paper`.
Arguments (after the colon, comma-separated): `paper`, `tiny`.
"""

from configs import common


def get_config(arg=None):
  args = common.parse_arg(arg, paper=False, tiny=False)
  config = common.base_config()
  config.data.source = "digits"
  config.data.target = "digits_m"
  config.train.num_steps = 2500
  config.train.log_every = 250
  config.train.eval_every = 500
  config.train.ckpt_every = 500
  # 500 target train images whose labels choose settings (oracle selection), never training.
  config.data.target_val_size = 500
  common.digits_recipe(config, paper=args.paper)
  if args.tiny:
    common.shrink_for_tests(config)
  return config

"""DANN on the embedded offline digits pair: UCI digits -> digits-M.

Needs no network: both datasets are built from data scikit-learn bundles.

    python -m experiments.dann --config configs/dann_digits.py

Baselines on the same network and budget:
    --config.method.name=source_only   (no domain loss)
    --config.method.name=target_only   (trained on labelled target: the oracle)

The paper's plain recipe is `--config configs/dann_digits.py:paper`.
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
  common.dann_recipe(config, paper=args.paper)
  if args.tiny:
    common.shrink_for_tests(config)
  return config

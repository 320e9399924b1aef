"""Multi-source adaptation on a digits-five built offline: four digit domains are the sources,
the fifth the target, each in turn.

    python -m experiments.domainbed --config configs/digits_five.py \\
        --config.data.manual_dir=../shared/data/mnist --workdir runs/digits_five \\
        --methods=source_only,dann,multi_dann,m3sda --seeds=0,1,2 --single_sources

The five domains (all 28x28 RGB, ten digits): `mnist`, `mnist_m/offline`,
the embedded UCI `digits` and `digits_m`, and `synth_digits` (printed digits
in matplotlib's fonts, tljax/data/builders/synth_digits.py); only MNIST needs
files (its IDX files in `manual_dir`). Published digits-five uses SVHN, USPS
and SynDigits instead, which need downloads: numbers here are not
comparable to the literature's. `experiments.domainbed` holds each domain out
as the target in turn (`test=K` for one run with `experiments.dann`); with
`--trials=1` every method keeps its defaults. Baselines: `source_only` and
`dann` on the pooled sources ("sources pooled"), and with `--single_sources`
`source_only` from each source alone, whose best per target is the usual
"best single source" (a choice made on target test accuracy).

The network and recipe are MNIST -> MNIST-M's (`configs/mnist_mnistm.py`), 32
images of each source per step, 3,000 steps. Arguments: `test=K`, `tiny`.
"""

from configs import common
from tljax.data import domains

ENVIRONMENTS = ["mnist", "mnist_m/offline", "digits", "digits_m", "synth_digits"]


def get_config(arg=None):
  args = common.parse_arg(arg, test=1, tiny=False)
  config = common.base_config()
  config.data.environments = ",".join(ENVIRONMENTS)  # experiments.domainbed targets each.
  domains.leave_one_out(config.data, ENVIRONMENTS, args.test)
  sources = len(ENVIRONMENTS) - 1
  config.method.name = "multi_dann"
  config.data.batch_size = 32 * sources
  config.data.eval_batch_size = 1000
  config.data.source_val_size = 100 * sources  # Held out for the label-free validators.
  config.data.target_val_size = 200  # Oracle selection only.
  config.train.num_steps = 3000
  config.train.log_every = 300
  config.train.eval_every = 1000
  config.train.ckpt_every = 1000
  common.digits_recipe(config, paper=False, ema_decay=0.999)
  if args.tiny:
    common.shrink_for_tests(config)
    config.data.batch_size = 2 * sources
    config.data.source_val_size = sources
  return config

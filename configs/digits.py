"""DANN on the embedded offline digits pair: UCI digits -> digits-M.

Needs no network: both datasets are built from data scikit-learn bundles.

    python -m experiments.dann --config configs/digits.py

Any method: --config.method.name=NAME (tljax/methods/NAME.py), e.g.
    --config.method.name=source_only   (no domain loss)
    --config.method.name=target_only   (trained on labelled target: the oracle)
    --config.method.name=self_training (pseudo-labels, FixMatch-style)

Results (every method, 3 seeds, final checkpoints, wall time per run) are
generated from the committed runs in docs/results.md, "Method benchmark".
The recipe (per-image standardised input, shifts of up to 2 px, a 500-500
domain classifier) changes three things from the paper's.

The paper's plain recipe is `--config configs/digits.py:paper`. Label sets
that differ (docs/results.md, "When the label sets differ"): `:partial`
(target classes 0-4), `:openset` (source 0-5, target 0-9 with 6-9 unknown),
`:universal` (source 0-7, target 3-9), e.g.
    python -m experiments.dann --config configs/digits.py:openset --config.method.name=osbp
SHOT's source model for the source-free methods (a BatchNorm bottleneck, a
weight-normalised output layer, label smoothing): `:shot`, in the source run
and in the source-free runs from it (docs/results.md, "Without the source data").
Arguments (after the colon, comma-separated): `paper`, `tiny`, `partial`, `openset`,
`universal`, `shot`.
"""

from configs import common


def get_config(arg=None):
  args = common.parse_arg(
    arg, paper=False, tiny=False, partial=False, openset=False, universal=False, shot=False
  )
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
  common.label_sets(config, args)
  if args.shot:
    common.shot_source(config)
  if args.tiny:
    common.shrink_for_tests(config)
  return config

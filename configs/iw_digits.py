"""Covariate shift by selection: digits drawn with a stroke-mass bias -> all digits.

    python -m experiments.dann --config configs/iw_digits.py --config.method.name=iw_erm

The source is the embedded `digits` training set sampled with a selection
bias (an image is kept with probability sigmoid(3 z), z its stroke mass
standardised within its class: heavy strokes kept, light ones mostly
dropped; tljax/data/selection.py); the target is the same `digits`,
unbiased. p(y|x) is shared, p(x) differs: importance weighting's setting.
Compare --config.method.name=source_only (and target_only, the oracle).
Results: docs/results.md#instance-weighting.
"""

from configs import common, digits


def get_config(arg=None):
  args = common.parse_arg(arg, tiny=False)
  config = digits.get_config("tiny" if args.tiny else None)
  config.data.source = config.data.target = "digits"
  config.data.source_selection_bias = 3.0
  config.data.target_val_size = 0  # The oracle trains on all 599 unbiased labelled digits.
  config.method.name = "iw_erm"
  return config

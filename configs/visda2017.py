"""DANN on VisDA-2017 classification (Peng et al. 2017), synthetic -> real, ResNet-50.

    python -m experiments.dann --config configs/visda2017.py \\
        --config.data.manual_dir=/data/visda2017 \\
        --config.model.torch_weights=/weights/resnet50.npz --workdir runs/visda

The manual dir holds train/ (152k synthetic renderings) and validation/ (55k
real photos), each <12 classes>/*; the recipe of office31.py with more
steps. At 224 px the training set is ~23 GB decoded: it streams from the
files (data.load="auto"). Published, **not reproduced here**: DANN with
ResNet-101 is reported near 0.57-0.63 mean per-class accuracy in later papers.
Arguments: `tiny`.
"""

from configs import common, office31


def get_config(arg=None):
  args = common.parse_arg(arg, source="synthetic", target="real", tiny=False)
  return office31.benchmark_recipe("visda2017", args, num_steps=50000)

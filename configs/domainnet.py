"""DANN on DomainNet (Peng et al. 2019), ResNet-50, official train/test lists.

    python -m experiments.dann --config configs/domainnet.py:source=real,target=sketch \\
        --config.data.manual_dir=/data/domainnet \\
        --config.model.torch_weights=/weights/resnet50.npz --workdir runs/dn_real_sketch

The manual dir holds <domain>/<345 classes>/*.jpg and <domain>_{train,test}.txt;
without them, TFDS's `domainnet/<domain>` builder downloads the data (then
held in memory: pass data.load only to folder data). Domains clipart,
infograph, painting, quickdraw, real, sketch. The recipe of office31.py;
~600k images stream from the files. Published, **not reproduced here**.
Arguments: `source=`, `target=`, `tiny`.
"""

from configs import common, office31


def get_config(arg=None):
  args = common.parse_arg(arg, source="real", target="sketch", tiny=False)
  return office31.benchmark_recipe("domainnet", args, num_steps=50000)

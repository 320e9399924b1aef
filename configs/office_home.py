"""DANN on Office-Home (Venkateswara et al. 2017): the ResNet-50 recipe of office31.py.

    python -m experiments.dann --config configs/office_home.py:source=Art,target=Clipart \\
        --config.data.manual_dir=/data/OfficeHomeDataset_10072016 \\
        --config.model.torch_weights=/weights/resnet50.npz --workdir runs/home_Ar_Cl

Domains Art, Clipart, Product, Real_World ("Real World" as the archive names
it works too), 65 classes, all images both train and test (the papers'
protocol). Published, **not reproduced here**: Transfer-Learning-Library's
ResNet-50 DANN reports an Office-Home mean of about 0.65 over the 12 pairs.
Arguments: `source=`, `target=`, `tiny`.
"""

from configs import common, office31


def get_config(arg=None):
  args = common.parse_arg(arg, source="Art", target="Clipart", tiny=False)
  return office31.benchmark_recipe("office_home", args, num_steps=20000)

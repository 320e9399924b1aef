"""DANN on Office-31 (Saenko et al. 2010) with an ImageNet ResNet-50, as the literature runs it.

    python -m experiments.dann --config configs/office31.py:source=amazon,target=webcam \\
        --config.data.manual_dir=/data/office31 \\
        --config.model.torch_weights=/weights/resnet50.npz --workdir runs/office31_A_W

The manual dir holds the extracted archive: amazon/images/<31 classes>/*.jpg,
dslr/images/..., webcam/images/... (tljax/data/benchmarks.py). The protocol
is the papers': every labelled source image trains, every target image is
both the unlabelled training set and the test set. `model.torch_weights` is
torchvision's ResNet-50 ImageNet state dict saved as .npz
(tljax/models/torch_import.py says how); without it the network starts from
scratch, which is not the published setting.

Recipe (Transfer-Learning-Library's DANN, ResNet-50): 224 random resized
crops and flips of images streamed from the files; a 256-unit bottleneck
with BatchNorm before the label classifier; a 1024-1024 domain classifier;
SGD, momentum 0.9, weight decay 1e-3, lr 0.01 decayed as
0.01 (1 + 0.001 i)^-0.75 (lr_alpha 20 over 20,000 steps), the backbone at 0.1x;
batch 32 + 32; GRL coefficient ramped as in the DANN paper.

Published, **not reproduced here** (no Office-31 images or GPU were available
to this project; numbers as the papers state them): DANN with AlexNet
(Ganin et al. 2016, JMLR, Table 3): A->W 0.730, D->W 0.964, W->D 0.992;
Transfer-Learning-Library's ResNet-50 DANN table reports an Office-31 mean of
about 0.82 over the six pairs. The pipeline (layout, streaming, crops, a
DANN step) is tested with `:tiny` on a generated miniature tree of the real
layout (tests/test_folders.py); see docs/data.md.

Arguments: `source=`, `target=` (amazon, dslr, webcam), `tiny` (a
ResNet-18 of width 8 at 64 px, for smoke runs). Other benchmarks import this
recipe: office_home.py, visda2017.py, domainnet.py.
"""

from configs import common


def get_config(arg=None):
  args = common.parse_arg(arg, source="amazon", target="webcam", tiny=False)
  return benchmark_recipe("office31", args, num_steps=20000)


def benchmark_recipe(benchmark: str, args, num_steps: int):
  """The ResNet-50 DANN recipe above on `benchmark/args.source` -> `benchmark/args.target`."""
  config = common.base_config()
  config.data.source = f"{benchmark}/{args.source}"
  config.data.target = f"{benchmark}/{args.target}"
  config.data.image_size = 224
  config.data.random_crop = True
  config.data.batch_size = 32
  config.data.eval_batch_size = 64
  config.model.name = "resnet50"
  config.model.input_norm = "imagenet"
  config.model.norm = "batch"
  config.model.head_hidden = (256,)
  common.set_discriminators(config, (1024, 1024))
  config.optim.lr = 0.01
  config.optim.lr_alpha = 0.001 * num_steps
  config.optim.weight_decay = 1e-3
  config.optim.param_groups = ((r"classifier/backbone/", 0.1),)
  config.train.num_steps = num_steps
  config.train.log_every = 100
  config.train.eval_every = config.train.ckpt_every = 1000
  if args.tiny:
    config.model.name, config.model.width = "resnet18", 8
    config.data.image_size, config.data.batch_size, config.data.eval_batch_size = 64, 4, 8
    config.train.num_steps, config.train.log_every = 4, 2
    config.train.eval_every = config.train.ckpt_every = 2
  return config

"""Domain generalisation on DomainBed's RotatedMNIST and ColoredMNIST: train on every
environment but one, test on that one, never read during training.

    python -m experiments.dann --config configs/domainbed_mnist.py:rotated,test=0 \\
        --config.data.manual_dir=../shared/data/mnist --config.method.name=irm

The environments are built offline from the MNIST IDX files as DomainBed
builds them (tljax/data/builders/domainbed_mnist.py): RotatedMNIST's six
rotations 0-75 degrees, ColoredMNIST's +90%, +80%, -90% colour environments
with 25% label noise. `test=K` makes environment K the target; the others
are the sources (`data.source="a,b,..."`, an equal share of every batch from
each). Methods for this setting read only the sources: `source_only` (ERM),
`irm`, `vrex`, `group_dro`; the multi-source adaptation methods (`multi_dann`,
`m3sda`, `dann` on the pooled sources) also read the target unlabelled.

Model selection, DomainBed's rules (`experiments.domainbed`): training-domain
validation reads `data.source_val_size` held-out source examples (an equal
share of each source); test-domain validation (the oracle, labelled as such)
reads `data.target_val_size` labelled target examples.

Deviations from DomainBed, to fit 2 CPU cores (the default): DANN's digits
network (`digits_net`, BatchNorm) instead of DomainBed's 4-layer GroupNorm CNN,
32 images per environment per step instead of 64, 2,000 steps instead of 5,000,
SGD with the annealed schedule. `domainbed` (an argument) is DomainBed's own
recipe for a GPU run: its network (`domainbed_mnist`), a linear classifier,
64 images per environment per step, 5,000 steps, Adam at a constant 1e-3.

Arguments (after the colon, comma-separated): `rotated` (the default) or
`colored`, `test=K`, `domainbed`, `tiny`.
"""

from configs import common
from tljax.data import domains

ENVIRONMENTS = {
  "rotated": [f"rotated_mnist/{angle}" for angle in (0, 15, 30, 45, 60, 75)],
  "colored": [f"colored_mnist/{e}" for e in ("plus90", "plus80", "minus90")],
}


def get_config(arg=None):
  args = common.parse_arg(arg, rotated=False, colored=False, test=0, domainbed=False, tiny=False)
  if args.rotated and args.colored:
    raise ValueError("give one of `rotated` and `colored`")
  environments = ENVIRONMENTS["colored" if args.colored else "rotated"]
  config = common.base_config()
  config.data.environments = ",".join(environments)  # experiments.domainbed tests on each.
  domains.leave_one_out(config.data, environments, args.test)
  sources = len(environments) - 1
  config.data.channels = 3 if args.colored else 1
  config.data.batch_size = 32 * sources  # Per step: 32 of each source environment.
  config.data.eval_batch_size = 1000
  config.data.source_val_size = 200 * sources  # Training-domain validation: 200 per source.
  config.data.target_val_size = 200  # Test-domain validation: the oracle rule's only.
  config.method.name = "source_only"  # ERM on the pooled sources.
  config.model.norm = "batch"
  config.train.num_steps = 2000
  config.train.log_every = 200
  config.train.eval_every = 1000
  config.train.ckpt_every = 1000
  if args.domainbed:
    config.model.name = "domainbed_mnist"
    config.model.head_hidden = ()
    config.data.batch_size = 64 * sources
    config.optim.name = "adam"
    config.optim.lr = 1e-3
    config.optim.schedule = "constant"
    config.train.num_steps = 5000
  if args.tiny:
    common.shrink_for_tests(config)
    config.data.batch_size = 2 * sources
    config.data.source_val_size = 2 * sources
    config.data.target_val_size = 2
  return config

"""Shared config pieces and the `--config file.py:key=value,...` argument parser."""

import ml_collections
from ml_collections import config_dict


def parse_arg(arg: str | None, **defaults) -> ml_collections.ConfigDict:
  """Parses 'tiny,source=mnist' into {'tiny': True, 'source': 'mnist', ...}.

  Only keys present in `defaults` are accepted; values are cast to the type of
  their default, and a bare key sets a bool to True.
  """
  parsed = ml_collections.ConfigDict(defaults)
  for item in filter(None, (arg or "").split(",")):
    key, _, value = item.partition("=")
    if key not in defaults:
      raise ValueError(f"unknown config argument {key!r}; valid arguments: {sorted(defaults)}")
    default = defaults[key]
    if isinstance(default, bool):
      parsed[key] = value.lower() not in ("0", "false", "no") if value else True
    else:
      parsed[key] = type(default)(value)
  return parsed


def base_config() -> ml_collections.ConfigDict:
  """Fields every experiment has; experiment configs change what they need."""
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.parallel = "single"  # "single", "pmap" or "sharded" (all devices).

  config.data = ml_collections.ConfigDict()
  config.data.source = "digits"
  config.data.target = "digits_m"
  config.data.train_split = "train"
  config.data.test_split = "test"
  config.data.image_size = 28  # Height = width; the loaded data must match.
  config.data.channels = 3
  config.data.random_shift = 0  # Train-time translation by up to this many pixels.
  # Train-time colour: random gain per channel and inversion (tljax.data.augment.colour_jitter).
  config.data.colour_jitter = False
  # Strong views (self_training): shift by up to this many pixels, grey square of this side.
  config.data.strong_shift = 4
  config.data.cutout = 8
  # Labelled source examples held out of training for label-free validators.
  config.data.source_val_size = 0
  # Target train examples whose labels are read only to choose settings ("oracle selection" on
  # a target validation split, never the test split); they stay in the unlabelled target stream.
  config.data.target_val_size = 0
  # target_only: train on this many labelled target images per class (0: all).
  config.data.target_labels_per_class = 0
  config.data.batch_size = 64  # Per domain: a DANN step sees 2x this many images.
  config.data.eval_batch_size = 500
  config.data.data_dir = config_dict.placeholder(str)  # TFDS data dir.
  config.data.manual_dir = config_dict.placeholder(str)  # TFDS manual dir.
  # Image files (folder:PATH, office31/..., ...): "memory" decodes a split once and holds it;
  # "stream" decodes each batch's files on host threads; "auto" streams when the decoded
  # split would pass 256 MB or random_crop is on.
  config.data.load = "auto"
  config.data.random_crop = False  # Streamed train images: random resized crop + flip.
  config.data.test_fraction = 0.2  # folder:PATH without train/ and test/: held-out share.
  # Class names match the domains' labels: rename ("automobile:car,...") and/or keep only
  # the classes both domains have ("common"; "same" requires equal class sets).
  config.data.rename_classes = ""
  config.data.merge_classes = ""  # "even=0,2,4,6,8;odd=1,3,5,7,9": a coarser labelling.
  config.data.classes = "same"
  # Label sets that differ on purpose: class names or id ranges ("0-5,7") each domain keeps;
  # the target's classes the source lacks become one "unknown" class (tljax/data/classes.py).
  # Partial set: target inside source; open set: source inside target; universal: both.
  config.data.source_classes = ""
  config.data.target_classes = ""
  # > 0: keep source train images with probability sigmoid(bias * z(stroke mass)) (covariate
  # shift by selection; tljax/data/selection.py).
  config.data.source_selection_bias = 0.0

  config.model = ml_collections.ConfigDict()
  config.model.name = "digits_net"
  config.model.input_norm = "scale"  # "scale" (x/255) or "per_image".
  config.model.norm = "none"  # "none" (paper) or "batch".
  # digits_net with norm "none": "fast" (arranged for XLA:CPU) or "xla" (plain lax convs);
  # the same maths to float rounding (tljax/models/conv.py).
  config.model.conv_impl = "fast"
  config.model.dropout = 0.0
  config.model.head_hidden = (100, 100)
  # "mlp": Dense-ReLU layers then a linear output; "bottleneck": SHOT's head, the last hidden
  # layer a Dense-BatchNorm bottleneck, a weight-normalised output (tljax/models/heads.py).
  config.model.head = "mlp"
  config.model.stem = "imagenet"  # ResNets: "imagenet" (7x7/2 + pool) or "small" (3x3/1).
  config.model.width = 64  # ResNets: channels of the first stage (torchvision: 64).
  # Fine-tuning: start from another run's newest checkpoint (its workdir) and/or
  # torchvision ResNet weights (a saved state dict), except params matching skip_load.
  config.model.init_checkpoint = config_dict.placeholder(str)
  config.model.torch_weights = config_dict.placeholder(str)
  config.model.skip_load = ()  # Regexes, e.g. ("head/Dense_2",) for a new output layer.
  config.model.freeze_backbone = False  # Linear probe: backbone frozen, in inference mode.

  config.optim = ml_collections.ConfigDict()
  config.optim.name = "sgd"
  config.optim.lr = 0.01
  config.optim.schedule = "annealed"  # The DANN paper's: μ_p = lr / (1 + lr_alpha p)^lr_beta.
  config.optim.lr_alpha = 10.0
  config.optim.lr_beta = 0.75
  config.optim.momentum = 0.9
  config.optim.weight_decay = 0.0
  config.optim.clip_norm = 0.0  # 0 disables clipping.
  config.optim.param_groups = ()  # ((regex, lr_mult or None to freeze), ...)
  # L2-SP: alpha/2 |w - w_pretrained|^2 on loaded weights + beta/2 |w|^2 on new ones.
  config.optim.l2sp_alpha = 0.0
  config.optim.l2sp_beta = 0.0

  config.method = methods_section("dann")

  config.train = ml_collections.ConfigDict()
  config.train.num_steps = 1000
  config.train.log_every = 100
  config.train.eval_every = 500
  config.train.ckpt_every = 500
  config.train.ema_decay = 0.0  # > 0: evaluate an EMA of the classifier's weights.
  # >= 0: evaluate the mean of the classifier's weights at every step from this one on (SWA
  # averaged densely, as SWAD does; tljax/core/step.py `ema`). -1: off.
  config.train.average_from = -1
  # "bfloat16": training forward passes compute in bf16 on float32 params (mixed precision).
  config.train.dtype = "float32"
  # > 1: seeds seed .. seed + num_seeds - 1 in one process and one compiled program, each in
  # WORKDIR/seed=<s> as its own run (tljax/run/seeds.py), the program "sequential" (the one step
  # called per seed) or "unrolled" (each seed's own step in one program), both bit for bit a single
  # run's, "vmap" (vectorised over seeds) or "auto" (sequential on CPU, vmap on accelerators).
  config.train.num_seeds = 1
  config.train.seeds_program = "auto"
  # > 0 (with data.source_val_size > 0): score the final model by the DANN paper's
  # reverse validation, a reverse DANN trained this many steps (tljax/train/reverse.py).
  config.train.reverse_validation_steps = 0
  return config


def methods_section(name: str) -> ml_collections.ConfigDict:
  """`config.method`: `name` plus every method's settings (tljax/methods/*.py) at their defaults.

  `--config.method.name=coral --config.method.coral.trade_off=2` picks a
  method and sets its fields; each method's file documents them and its
  recipe. A new method file adds its section here without an edit.
  """
  from tljax import methods  # pylint: disable=g-import-not-at-top

  return methods.config_section(name)


def set_discriminators(config: ml_collections.ConfigDict, hidden: tuple[int, ...]) -> None:
  """The width of every method's domain discriminator (the methods with `discriminator_hidden`)."""
  for section in config.method.values():
    if isinstance(section, ml_collections.ConfigDict) and "discriminator_hidden" in section:
      section.discriminator_hidden = tuple(hidden)


def digits_recipe(config: ml_collections.ConfigDict, paper: bool, ema_decay: float = 0.0) -> None:
  """tljax's recipe on the DANN paper's digits network, or with `paper` the published plain one.

  The recipe: per-image standardised input, +-2 px random shifts, 500-500
  domain discriminators, and optionally evaluation with an EMA of the
  classifier's weights. The paper: [0, 1] inputs, no shifts, a 100-unit
  domain classifier, no averaging.
  """
  config.model.input_norm = "scale" if paper else "per_image"
  config.data.random_shift = 0 if paper else 2
  set_discriminators(config, (100,) if paper else (500, 500))
  config.train.ema_decay = 0.0 if paper else ema_decay


def shot_source(config: ml_collections.ConfigDict) -> None:
  """The `shot` argument: SHOT's source model (Liang et al. 2020) for the source-free methods.

  A 256-wide Dense-BatchNorm bottleneck, a weight-normalised output layer and
  label smoothing 0.1 in `source_only`'s loss. The source run and the
  source-free runs that start from it take the same argument (the same network).
  """
  config.model.head = "bottleneck"
  config.model.head_hidden = (256,)
  config.method.source_only.label_smoothing = 0.1


def finetune_recipe(config, num_steps: int, pretrain_steps: int, seeds: tuple[int, ...]) -> None:
  """Turns a DANN config into one for experiments.finetune.

  Each fine-tuning run trains `target_only` for `num_steps` (evaluated and
  checkpointed at the end); `config.finetune` holds the pretraining, label
  budgets, modes and seeds.
  """
  config.method.name = "target_only"
  config.data.source_val_size = 0  # Pretraining reads every labelled source image.
  config.train.num_steps = num_steps
  config.train.log_every = num_steps // 4
  config.train.eval_every = config.train.ckpt_every = num_steps
  config.finetune = ml_collections.ConfigDict(
    {
      "pretrain_steps": pretrain_steps,  # source_only steps on the source domain.
      "pretrained": config_dict.placeholder(str),  # A finished run's workdir: skip pretraining.
      "labels_per_class": (1, 5, 10, 50, 0),  # 0: every labelled target training image.
      "modes": ("target_only", "finetune", "linear_probe"),  # Or "l2sp".
      "seeds": seeds,
      "l2sp_alpha": 0.01,
      "l2sp_beta": 0.0,
    }
  )


# Label-set protocols on ten classes (ids): (source classes, target classes).
LABEL_SETS = {
  "partial": ("", "0-4"),  # Target inside source: PADA's setting (Cao et al. 2018).
  "openset": ("0-5", ""),  # 6-9 unknown in the target: Saito et al. 2018's protocol.
  "universal": ("0-7", "3-9"),  # Common 3-7, source-private 0-2, target-private 8-9.
}


def label_sets(config: ml_collections.ConfigDict, args: ml_collections.ConfigDict) -> None:
  """Applies the `partial`, `openset` or `universal` config argument (at most one)."""
  chosen = [name for name in LABEL_SETS if args.get(name)]
  if len(chosen) > 1:
    raise ValueError(f"choose one label-set protocol, not {chosen}")
  if chosen:
    config.data.source_classes, config.data.target_classes = LABEL_SETS[chosen[0]]


def shrink_for_tests(config: ml_collections.ConfigDict) -> None:
  """The `tiny` variant: a few-hundred-parameter model, a handful of steps, no held-out splits."""
  config.model.name = "tiny"
  config.data.source_val_size = config.data.target_val_size = 0  # Tests set their own.
  config.data.batch_size = 8
  config.data.eval_batch_size = 64
  config.train.num_steps = 6
  config.train.log_every = 2
  config.train.eval_every = 3
  config.train.ckpt_every = 3

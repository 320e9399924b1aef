"""Reverse validation as in the DANN paper (Ganin et al. 2016, Sec. 5.1.2; Zhong et al. 2010).

To score a trained model η without target labels: label the target training
images with η's predictions, train a *reverse* DANN network from scratch that
takes the pseudo-labelled target as its source and the (unlabelled) source
training images as its target, and measure its accuracy on the held-out
labelled source validation split. If η's pseudo-labels are right, the reverse
network transfers back well. Higher is better. Costs one short training run,
so it is scored at the end of a run (`config.train.reverse_validation_steps`).
"""

import jax
import ml_collections
import numpy as np

from tljax import core
from tljax.data import streams as streams_lib
from tljax.run import build, evaluation

MAX_IMAGES = 10_000  # Pseudo-labelled target / unlabelled source images used (the first N).


def reverse_config(config: ml_collections.ConfigDict, num_steps: int) -> ml_collections.ConfigDict:
  """The reverse network's config: DANN from scratch, same model and optimizer recipe."""
  rev = ml_collections.ConfigDict(config.to_dict())
  rev.method.name = "dann"
  rev.parallel = "single"
  rev.train.num_steps = num_steps
  rev.data.source_val_size = 0
  rev.data.target_labels_per_class = 0
  rev.model.init_checkpoint = None
  rev.model.torch_weights = None
  rev.model.freeze_backbone = False
  rev.optim.param_groups = ()
  rev.optim.l2sp_alpha = rev.optim.l2sp_beta = 0.0
  return rev


def reverse_accuracy(
  config: ml_collections.ConfigDict,
  pseudo_labelled: dict,
  unlabelled: np.ndarray,
  validation: dict,
  num_steps: int,
) -> float:
  """Trains the reverse DANN on `pseudo_labelled` -> `unlabelled`; accuracy on `validation`.

  Args:
    config: the evaluated run's config (model, optimizer, data recipe).
    pseudo_labelled: {"input", "label"} target images with predicted labels.
    unlabelled: source training images [N, H, W, C] (their labels unused).
    validation: {"input", "label"} labelled source validation images.
    num_steps: training steps of the reverse network.
  """
  rev = reverse_config(config, num_steps)
  num_classes = int(max(pseudo_labelled["label"].max(), validation["label"].max())) + 1
  built = build.build(rev, pseudo_labelled["input"].shape[1:], num_classes)
  streams = {
    core.SOURCE: streams_lib.Stream(pseudo_labelled, rev.data.batch_size, rev.seed),
    core.TARGET: streams_lib.Stream({"input": unlabelled}, rev.data.batch_size, rev.seed + 1),
  }
  state, rng = built.state, jax.random.key(rev.seed)
  for _, batch in zip(range(num_steps), streams_lib.batches(streams)):
    state, _ = built.train_step(state, batch, rng)
  return evaluation.evaluate(built.eval_step, state, validation, rev.data.eval_batch_size)[
    "accuracy"
  ]


def reverse_validation(config, evaluator, state, data, num_steps: int) -> float:
  """The DANN paper's reverse validation score of `state` (see the module docstring)."""
  target = {"input": data.target_train["input"][:MAX_IMAGES]}
  logits, _ = evaluator.outputs(state, target)
  pseudo_labelled = {"input": target["input"], "label": logits.argmax(-1)}
  unlabelled = data.source_train["input"][:MAX_IMAGES]
  return reverse_accuracy(config, pseudo_labelled, unlabelled, data.source_val, num_steps)

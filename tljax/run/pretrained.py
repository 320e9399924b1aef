"""Initial weights from another tljax run and/or torchvision ResNet weights."""

import logging

import jax
import jax.numpy as jnp
import ml_collections

from tljax import checkpoint, nested
from tljax.errors import ConfigError
from tljax.models import torch_import

log = logging.getLogger("tljax")


def load(model: ml_collections.ConfigDict, params, batch_stats):
  """(params, batch_stats, report) with `model.torch_weights` / `model.init_checkpoint` loaded.

  torchvision weights go into the classifier's backbone; a tljax checkpoint
  into every parameter it holds (it overrides the torch weights where both
  have one). Names matching `model.skip_load` keep their fresh initialisation.
  `report` is None when nothing is loaded, else {"loaded", "skipped", "new", "unused"};
  ConfigError if the weights fit nothing of the model.
  """
  pretrained = {}
  if model.torch_weights:
    torch_variables = torch_import.from_torch(torch_import.read_state_dict(model.torch_weights))
    for collection, tree in torch_variables.items():
      prefix = f"{collection}/classifier/backbone"
      pretrained.update(nested.flatten(tree, prefix))
  if model.init_checkpoint:
    pretrained.update(checkpoint.read_pretrained(model.init_checkpoint))
  if not pretrained:
    return params, batch_stats, None
  variables, report = checkpoint.init_from_pretrained(
    {"params": params, "batch_stats": batch_stats}, pretrained, tuple(model.skip_load)
  )
  _check_something_loaded(model, report)
  variables = jax.tree.map(jnp.asarray, variables)  # Device arrays, as a fresh state's.
  source = " + ".join(filter(None, (model.torch_weights, model.init_checkpoint)))
  log.info(
    "initialised from %s: %d arrays loaded, %d skipped (%s), %d not in the checkpoint (%s), "
    "%d in it but not in the model (%s)",
    source,
    len(report["loaded"]),
    len(report["skipped"]),
    ", ".join(report["skipped"]) or "-",
    len(report["new"]),
    _summarise(report["new"]),
    len(report["unused"]),
    _summarise(report["unused"]),
  )
  return variables["params"], variables["batch_stats"], report


def _check_something_loaded(model, report: dict) -> None:
  """ConfigError when the weights fit nothing: training from scratch would pass for a fine-tune."""
  backbone = [n for n in report["loaded"] if n.startswith("params/classifier/backbone/")]
  unused = _summarise(report["unused"])
  if model.torch_weights and not backbone:
    raise ConfigError(
      f"config.model.torch_weights={model.torch_weights!r}: none of its arrays fits the "
      f"{model.name} backbone ({len(report['unused'])} unused: {unused}); give weights of "
      "the same architecture (e.g. a torchvision resnet18 for model.name=resnet18)"
    )
  if model.init_checkpoint and not report["loaded"]:
    raise ConfigError(
      f"config.model.init_checkpoint={model.init_checkpoint!r}: none of its arrays fits this "
      f"model ({len(report['unused'])} unused: {unused}); give a run of the same model.name"
    )


def check_whole_classifier(model, report: dict | None, method_name: str) -> None:
  """ConfigError unless `model.init_checkpoint` gave every classifier array (source-free runs)."""
  missing = [n for n in (report or {}).get("new", ()) if "/classifier/" in n]
  if missing:
    raise ConfigError(
      f"config.method.name={method_name!r} adapts the source model, and config.model."
      f"init_checkpoint={model.init_checkpoint!r} lacks {len(missing)} of its arrays "
      f"({_summarise(missing)}): give the source run of the same network (config.model)"
    )


def loaded_mask(params, report: dict | None):
  """Params-shaped tree of bools: True where the leaf was loaded (None without a report)."""
  if report is None:
    return None
  loaded = set(report["loaded"])
  return jax.tree_util.tree_map_with_path(
    lambda path, _: "params/" + checkpoint.param_name(path) in loaded,
    params,
  )


def _summarise(names: list[str], limit: int = 3) -> str:
  if len(names) <= limit:
    return ", ".join(names) or "-"
  return ", ".join(names[:limit]) + f", ... ({len(names) - limit} more)"

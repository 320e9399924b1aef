"""Co-Tuning: You, Kou, Jiang, Wang, Long, NeurIPS 2020, "Co-Tuning for Transfer Learning".

    L = CE(h_t(f(x)), y) + trade_off * CE(h_s(f(x)), R[y])
    R[y] = mean of softmax(h_s0(f0(x))) over the labelled target examples x of class y

Fine-tuning that keeps the pretrained network's own head h_s (over the
source's classes) on the shared backbone f beside the new target head h_t,
and trains it too, on soft labels: each target label y translated into a
distribution R[y] over source classes. The relation R [K_target, K_source]
(rows sum to 1) is what the pretrained network f0, h_s0 predicts on the
labelled target training images of each class, computed once before
training. The target head alone is evaluated. It is relation-based
transfer: it matters where the label sets differ (a target task over other
or coarser classes), where plain fine-tuning throws the source head away.
The source head comes from `config.model.init_checkpoint` (a finished run
of the same model); trade_off 2.3 as in the reference (TLlib). The paper
fits R on held-out data and can calibrate it; here it is the training
images' mean prediction (TLlib's default). Used as the `co_tuning` mode of
`experiments.finetune`.
"""

import dataclasses
import logging

import jax
import jax.numpy as jnp
import numpy as np

from tljax import checkpoint, core
from tljax.errors import ConfigError
from tljax.models.heads import MLP

log = logging.getLogger("tljax")


def relation(source_probs: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
  """R [num_classes, K_source]: the mean source prediction of each target class's examples.

  A class without labelled examples gets the uniform row (it relates to nothing), with a warning.
  """
  probs = np.asarray(source_probs, np.float64)
  rows = []
  for c in range(num_classes):
    members = probs[np.asarray(labels) == c]
    if not len(members):
      log.warning("co_tuning: no labelled target example of class %d; its relation is uniform", c)
      rows.append(np.full(probs.shape[1], 1.0 / probs.shape[1]))
    else:
      rows.append(members.mean(0))
  return np.stack(rows).astype(np.float32)


def soft_cross_entropy(logits: jax.Array, targets: jax.Array) -> jax.Array:
  """-sum_k targets_k log softmax(logits)_k per example: [B, K] -> [B]."""
  return -(targets * jax.nn.log_softmax(logits)).sum(-1)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Target cross-entropy plus the pretrained source head trained on translated labels."""

  streams = (core.TARGET_LABELLED,)
  pretrained = True
  labels = {"relation_loss": "rel"}

  trade_off: float = core.setting(2.3, core.NON_NEGATIVE)

  @property
  def init_checkpoint(self) -> str:
    return self.model.init_checkpoint

  def check(self, setup) -> None:
    if not self.model.init_checkpoint:
      raise ConfigError(
        "co_tuning keeps the pretrained head of config.model.init_checkpoint: set it to a "
        "finished run of this model (torchvision weights carry no tljax head)"
      )
    checkpoint.read_classifier(self.model.init_checkpoint)  # Checked before data is loaded.

  def source_head(self, source_classes: int) -> MLP:
    m = self.model
    return MLP(tuple(m.head_hidden), source_classes, m.dropout, m.norm)

  def init(self, rng, logits, features):
    del logits
    pretrained = checkpoint.read_classifier(self.init_checkpoint)
    source_classes = checkpoint.output_classes(pretrained)
    params, stats = core.init_network(self.source_head(source_classes), rng, features)
    loaded = {"params": pretrained["params"].get("head", {})}
    loaded["batch_stats"] = pretrained["batch_stats"].get("head", {})
    for name, fresh in (("params", params), ("batch_stats", stats)):
      old = loaded[name]
      shapes = jax.tree.map(jnp.shape, fresh), jax.tree.map(jnp.shape, old)
      if shapes[0] != shapes[1]:
        raise ConfigError(
          f"config.model.init_checkpoint={self.init_checkpoint!r}: its head's {name} "
          f"{shapes[1]} do not fit this model's head {shapes[0]}; give a run of the same model"
        )
    loaded = jax.tree.map(jnp.asarray, loaded)  # Own buffers (the step donates them).
    return core.Extras({"source_head": loaded["params"]}, {"source_head": loaded["batch_stats"]})

  def prepare(self, start):
    labelled = start.sets[core.TARGET_LABELLED]
    _, features = start.outputs(labelled["input"])
    head = start.variables["params"]["source_head"]
    stats = start.variables["batch_stats"]["source_head"]
    module = self.source_head(checkpoint.output_classes({"params": {"head": head}}))
    variables = {"params": head, **({"batch_stats": stats} if stats else {})}
    logits = jax.jit(lambda v, f: module.apply(v, f, train=False))(variables, features)
    r = relation(jax.nn.softmax(logits), labelled["label"], self.num_classes)
    top = r.argmax(1)
    pairs = ", ".join(f"{t}->{s}" for t, s in enumerate(top))
    log.info(
      "co_tuning: relation of %d target classes to %d source classes from %d labelled "
      "examples; most likely source class per target class: %s",
      r.shape[0], r.shape[1], len(labelled["label"]), pairs,
    )  # fmt: skip
    return core.Prepared(state={"relation": jnp.asarray(r)})

  def loss(self, out):
    loss, metrics = core.supervised(out, core.TARGET_LABELLED)
    labels = out.batch[core.TARGET_LABELLED]["label"]
    features = out.features[core.TARGET_LABELLED]
    relation_matrix = out.method_state["relation"]
    module = self.source_head(relation_matrix.shape[1])
    source_logits = out.apply("source_head", module, features)
    rel = soft_cross_entropy(source_logits, relation_matrix[labels]).mean()
    return loss + self.trade_off * rel, {**metrics, "relation_loss": rel}

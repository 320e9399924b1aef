"""Knowledge distillation to the target: Hinton et al. 2015, arXiv:1503.02531.

    L = L_task(source) + trade_off * T^2 KL(softmax(t(x)/T) || softmax(s(x)/T)),  x ~ target

A teacher t, a finished source-trained run (`teacher`: its workdir), labels
the unlabelled target images softly; the student s (the run's classifier)
learns the teacher's relations between classes there (its dark knowledge),
beside cross-entropy on the labelled source. The teacher is frozen: its
evaluation weights sit in the method's state and only run forward. It must
have the student's architecture and classes (config.model). T = 2 and
trade_off 1 by default. The simplest teacher-to-target transfer; with a
teacher adapted by DANN or self-training it passes that adaptation on.
"""

import dataclasses
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from tljax import checkpoint, models
from tljax.errors import ConfigError
from tljax.methods import base


def soft_cross_entropy(student: jax.Array, teacher: jax.Array, temperature: float) -> jax.Array:
  """T^2 KL(softmax(teacher/T) || softmax(student/T)) per example: [B, K] logits -> [B]."""
  p = jax.nn.softmax(teacher / temperature)
  log_q = jax.nn.log_softmax(student / temperature)
  log_p = jax.nn.log_softmax(teacher / temperature)
  return temperature**2 * (p * (log_p - log_q)).sum(-1)


@dataclasses.dataclass(frozen=True)
class Method(base.Method):
  """Source cross-entropy plus distillation of a frozen teacher on target images."""

  streams = (base.SOURCE, base.TARGET)
  defaults = {"teacher": "", "temperature": 2.0, "trade_off": 1.0}
  labels = {"distill_loss": "kd", "agreement": "agree"}

  teacher: str = ""
  temperature: float = 2.0
  trade_off: float = 1.0
  model: ml_collections.FrozenConfigDict | None = None  # The student's (and teacher's) model.
  num_classes: int = 0

  @property
  def classifier(self) -> nn.Module:
    return models.build_classifier(self.model, self.num_classes)

  @classmethod
  def create(cls, setup):
    teacher = setup.get("teacher")
    if not teacher or not os.path.isdir(os.path.expanduser(teacher)):
      raise ConfigError(
        f"config.method.distill.teacher={teacher!r}: give the workdir of a finished run of "
        "this config's model on the source (e.g. a source_only or dann run)"
      )
    checkpoint.read_classifier(teacher)  # Checked here, before any data is loaded.
    return cls(
      teacher=os.path.expanduser(teacher),
      temperature=setup.get("temperature", base.POSITIVE),
      trade_off=setup.get("trade_off", base.NON_NEGATIVE),
      model=ml_collections.FrozenConfigDict(setup.model),
      num_classes=setup.num_classes,
    )

  def init(self, rng, logits, features):
    del rng, features
    teacher = jax.tree.map(jnp.asarray, checkpoint.read_classifier(self.teacher))  # Own buffers.
    out = checkpoint.output_classes(teacher)
    if out != logits.shape[-1]:
      raise ConfigError(
        f"config.method.distill.teacher={self.teacher!r} predicts {out} classes, the run "
        f"{logits.shape[-1]}: the teacher must share the student's model and classes"
      )
    return base.Extras(state={"teacher": teacher})

  def loss(self, out):
    loss, metrics = base.supervised(out, base.SOURCE)
    teacher = out.method_state["teacher"]
    variables = {"params": teacher["params"]}
    if teacher["batch_stats"]:
      variables["batch_stats"] = teacher["batch_stats"]
    target_inputs = out.batch[base.TARGET]["input"]
    teacher_logits, _ = self.classifier.apply(variables, target_inputs, train=False)
    teacher_logits = jax.lax.stop_gradient(teacher_logits)
    student = out.logits[base.TARGET]
    kd = soft_cross_entropy(student, teacher_logits, self.temperature).mean()
    agreement = (student.argmax(-1) == teacher_logits.argmax(-1)).mean()
    return loss + self.trade_off * kd, {**metrics, "distill_loss": kd, "agreement": agreement}

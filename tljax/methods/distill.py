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

from tljax import checkpoint, core, models
from tljax.errors import ConfigError


def soft_cross_entropy(student: jax.Array, teacher: jax.Array, temperature: float) -> jax.Array:
  """T^2 KL(softmax(teacher/T) || softmax(student/T)) per example: [B, K] logits -> [B]."""
  p = jax.nn.softmax(teacher / temperature)
  log_q = jax.nn.log_softmax(student / temperature)
  log_p = jax.nn.log_softmax(teacher / temperature)
  return temperature**2 * (p * (log_p - log_q)).sum(-1)


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Source cross-entropy plus distillation of a frozen teacher on target images."""

  streams = (core.SOURCE, core.TARGET)
  labels = {"distill_loss": "kd", "agreement": "agree"}

  teacher: str = core.setting("")  # A finished run's workdir.
  temperature: float = core.setting(2.0, core.POSITIVE)
  trade_off: float = core.setting(1.0, core.NON_NEGATIVE)

  @property
  def classifier(self) -> nn.Module:
    return models.build_classifier(self.model, self.num_classes)

  def check(self, setup) -> None:
    teacher = self.teacher
    if not teacher or not os.path.isdir(os.path.expanduser(teacher)):
      raise ConfigError(
        f"config.method.distill.teacher={teacher!r}: give the workdir of a finished run of "
        "this config's model on the source (e.g. a source_only or dann run)"
      )
    checkpoint.read_classifier(os.path.expanduser(teacher))  # Checked before data is loaded.

  def init(self, rng, logits, features):
    del rng, features
    teacher = checkpoint.read_classifier(os.path.expanduser(self.teacher))
    teacher = jax.tree.map(jnp.asarray, teacher)  # Own buffers.
    out = checkpoint.output_classes(teacher)
    if out != logits.shape[-1]:
      raise ConfigError(
        f"config.method.distill.teacher={self.teacher!r} predicts {out} classes, the run "
        f"{logits.shape[-1]}: the teacher must share the student's model and classes"
      )
    return core.Extras(state={"teacher": teacher})

  def loss(self, out):
    loss, metrics = core.supervised(out, core.SOURCE)
    teacher = out.method_state["teacher"]
    variables = {"params": teacher["params"]}
    if teacher["batch_stats"]:
      variables["batch_stats"] = teacher["batch_stats"]
    target_inputs = out.batch[core.TARGET]["input"]
    teacher_logits, _ = self.classifier.apply(variables, target_inputs, train=False)
    teacher_logits = jax.lax.stop_gradient(teacher_logits)
    student = out.logits[core.TARGET]
    kd = soft_cross_entropy(student, teacher_logits, self.temperature).mean()
    agreement = (student.argmax(-1) == teacher_logits.argmax(-1)).mean()
    return loss + self.trade_off * kd, {**metrics, "distill_loss": kd, "agreement": agreement}

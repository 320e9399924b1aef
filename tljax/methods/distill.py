"""Knowledge distillation to the target: Hinton et al. 2015, arXiv:1503.02531.

    L = L_task(source) + trade_off * T^2 KL(softmax(t(x)/T) || softmax(s(x)/T)),  x ~ target

A teacher t, a finished source-trained run (`teacher`: its workdir), labels
the unlabelled target images softly; the student s (the run's classifier)
learns the teacher's relations between classes there (its dark knowledge),
beside cross-entropy on the labelled source. The teacher is frozen: its
evaluation weights sit in the method's state and only run forward, through
its own network (the model section of its config.json: it may be another
architecture than the student's, on the same inputs and classes). T = 2 and
trade_off 1 by default. The simplest teacher-to-target transfer; with a
teacher adapted by DANN or self-training it passes that adaptation on.
"""

import dataclasses
import functools
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from tljax import checkpoint, core, files, models
from tljax.errors import ConfigError
from tljax.upgrade import upgrade

FIELD = "config.method.distill.teacher"


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
  def teacher_classifier(self) -> nn.Module:
    """The teacher's network: its run's model section over this run's (fields added since)."""
    return models.build_classifier(_teacher_model(self.teacher, self.model), self.num_classes)

  def check(self, setup) -> None:
    teacher = self.teacher
    if not teacher or not os.path.isdir(os.path.expanduser(teacher)):
      raise ConfigError(
        f"config.method.distill.teacher={teacher!r}: give the workdir of a finished run of "
        "this config's model on the source (e.g. a source_only or dann run)"
      )
    checkpoint.read_classifier(os.path.expanduser(teacher), FIELD)  # Checked before any data.

  def init(self, rng, logits, features):
    del rng, features
    teacher = checkpoint.read_classifier(os.path.expanduser(self.teacher), FIELD)
    teacher = jax.tree.map(jnp.asarray, teacher)  # Own buffers.
    out = checkpoint.output_classes(teacher)
    if out != logits.shape[-1]:
      raise ConfigError(
        f"config.method.distill.teacher={self.teacher!r} predicts {out} classes, the run "
        f"{logits.shape[-1]}: the teacher must have the student's classes"
      )
    if self.input_shape is not None:  # Its weights must fit its network on this run's inputs.
      inputs = jax.ShapeDtypeStruct((2, *self.input_shape), jnp.float32)
      fresh = jax.eval_shape(
        lambda x: self.teacher_classifier.init(jax.random.key(0), x, False), inputs
      )
      shapes = lambda tree: jax.tree.map(jnp.shape, tree)  # noqa: E731
      if shapes(fresh["params"]) != shapes(teacher["params"]):
        raise ConfigError(
          f"config.method.distill.teacher={self.teacher!r}: its weights do not fit its network "
          f"on this run's inputs of shape {self.input_shape} (trained on other inputs?); give "
          "a teacher trained on this data's input size"
        )
    return core.Extras(state={"teacher": teacher})

  def loss(self, out):
    loss, metrics = core.supervised(out, core.SOURCE)
    teacher = out.method_state["teacher"]
    variables = {"params": teacher["params"]}
    if teacher["batch_stats"]:
      variables["batch_stats"] = teacher["batch_stats"]
    target_inputs = out.batch[core.TARGET]["input"]
    teacher_logits, _ = self.teacher_classifier.apply(variables, target_inputs, train=False)
    teacher_logits = jax.lax.stop_gradient(teacher_logits)
    student = out.logits[core.TARGET]
    kd = soft_cross_entropy(student, teacher_logits, self.temperature).mean()
    agreement = (student.argmax(-1) == teacher_logits.argmax(-1)).mean()
    return loss + self.trade_off * kd, {**metrics, "distill_loss": kd, "agreement": agreement}


@functools.lru_cache(maxsize=8)
def _teacher_model(path: str, defaults) -> ml_collections.FrozenConfigDict:
  """The model section of the teacher run's config.json (fields it lacks from `defaults`)."""
  stored = files.read_json(os.path.join(os.path.expanduser(path), "config.json")) or {}
  model = upgrade(stored).get("model", {}) if stored else {}
  base = dict(defaults) if defaults is not None else {}
  return ml_collections.FrozenConfigDict({**base, **{k: v for k, v in model.items() if k in base}})

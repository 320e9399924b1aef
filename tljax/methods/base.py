"""The method interface: what a transfer method declares and computes.

A method is a frozen dataclass (hashable, so `functools.partial` binds it
into a jitted step) made by `Method.create(setup)`, which reads and checks
its fields under `config.method.<name>`. The shared code asks it:

- `streams`: the data it reads; the loop builds exactly these streams and the
  batch has one entry per stream: `SOURCE` {"input", "label"} (labelled
  source), `TARGET` {"input"} (unlabelled target), `TARGET_LABELLED`
  {"input", "label"} (labelled target: the oracle).
- `init(rng, logits, features)`: its extra networks' params and batch_stats
  and any non-trained state (`state.method_state`), given the classifier's
  outputs on a dummy batch.
- `prepare(start)`: what it computes once before training from the training
  sets and the starting (pretrained) weights (`Start`): per-example source
  weights (instance weighting) and/or state (a relation matrix, channel
  attention); nothing by default.
- `capture`: the classifier's intermediate outputs its loss reads (a regex
  over module paths, e.g. "^backbone/Conv_\\d+$"; None: none): then
  `out.intermediates[view]` holds them.
- `views(batch, rng, augment)`: the named input groups of its one
  training-mode forward pass; by default each stream's inputs through
  `augment.weak` (`tljax.methods.augment`: images or text, the method need
  not know which).
- `loss(out)`: its objective and metrics from that pass (`update.Forward`:
  logits and features per view, `out.apply` for its extra networks).
- `update(state, batch, rng, step)`: one train step; the default takes one
  gradient of `loss` (`update.gradient_update`). MCD overrides it.
- `labels`: short names of its metrics for the progress line.

The smallest methods are `source_only.py` and `target_only.py`; `dann.py`
adds a network and a metric; `mcd.py` its own update.
"""

import dataclasses
import functools
from typing import Any, Callable, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from tljax import methods
from tljax.errors import ConfigError
from tljax.methods import classification, update

SOURCE, TARGET, TARGET_LABELLED = "source", "target", "target_labelled"
LABELLED = {SOURCE: True, TARGET: False, TARGET_LABELLED: True}

Rule = tuple[Callable[[Any], bool], str]
NON_NEGATIVE: Rule = (lambda v: v >= 0, ">= 0")
POSITIVE: Rule = (lambda v: v > 0, "> 0")
POSITIVE_INT: Rule = (lambda v: isinstance(v, int) and v > 0, "an integer > 0")
NON_NEGATIVE_INT: Rule = (lambda v: isinstance(v, int) and v >= 0, "an integer >= 0")
PROBABILITY: Rule = (lambda v: 0 <= v <= 1, "in [0, 1]")


def one_of(choices) -> Rule:
  return (lambda v: v in choices, f"one of {list(choices)}")


@dataclasses.dataclass(frozen=True)
class Setup:
  """What a method is built from: its config section and the run's shape."""

  name: str  # The method's name (its file).
  method: ml_collections.ConfigDict  # config.method: every method's section.
  model: ml_collections.ConfigDict  # config.model, for extra networks.
  num_classes: int
  num_steps: int  # For schedules over training progress.
  input_shape: tuple[int, ...] | None = None  # One example's [H, W, C] or [L]; None: unknown.

  @property
  def section(self) -> ml_collections.ConfigDict:
    """config.method.<name>, or the method's defaults where the config lacks it."""
    if self.name in self.method:
      return self.method[self.name]
    return ml_collections.ConfigDict(methods.find(self.name).defaults)

  def build(self, name: str) -> "Method":
    """Another method on the same run (for methods that wrap one, e.g. `mcc`)."""
    cls = methods.find(name)
    if cls.pretrained and not (self.model.init_checkpoint or self.model.torch_weights):
      raise ConfigError(
        f"method {name!r} fine-tunes from pretrained weights: set config.model.init_checkpoint "
        "to a finished run (or model.torch_weights), as experiments.finetune does"
      )
    return cls.create(dataclasses.replace(self, name=name))

  def get(self, field: str, rule: Rule | None = None):
    """`section.field`, or a ConfigError naming it if it breaks `rule`."""
    value = self.section[field]
    if rule is not None and not rule[0](value):
      raise ConfigError(f"config.method.{self.name}.{field}={value!r} must be {rule[1]}")
    return value


@dataclasses.dataclass(frozen=True)
class Extras:
  """A method's additions to the train state."""

  params: dict = dataclasses.field(default_factory=dict)  # Trained, beside "classifier".
  batch_stats: dict = dataclasses.field(default_factory=dict)  # Same keys as params.
  state: dict = dataclasses.field(default_factory=dict)  # Not trained (state.method_state).


@dataclasses.dataclass(frozen=True)
class Start:
  """What `Method.prepare` computes from, once before training."""

  classifier: nn.Module
  variables: dict  # {"params", "batch_stats"} of every network at step 0 (pretrained or fresh).
  sets: dict  # Training arrays by stream: SOURCE and TARGET (inputs only) always, and
  # TARGET_LABELLED (the labelled target examples the run trains on) if the method reads it.

  def classifier_variables(self) -> dict:
    return update.variables(
      self.variables["params"]["classifier"], self.variables["batch_stats"]["classifier"]
    )

  def outputs(self, inputs, batch_size: int = 256) -> tuple[jax.Array, jax.Array]:
    """The starting classifier's (logits [N, K], features [N, D]) on `inputs`, evaluation mode."""
    apply = jax.jit(lambda v, x: self.classifier.apply(v, x, train=False))
    variables = self.classifier_variables()
    parts = [
      apply(variables, inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)
    ]
    return jnp.concatenate([p[0] for p in parts]), jnp.concatenate([p[1] for p in parts])


@functools.partial(jax.jit, static_argnums=0)
def _evaluate(classifier: nn.Module, variables: dict, inputs) -> tuple[jax.Array, jax.Array]:
  return classifier.apply(variables, inputs, train=False)


@dataclasses.dataclass(frozen=True)
class Prepared:
  """What `Method.prepare` returns."""

  source_weights: Any = None  # [N] weights of the labelled source examples, or None.
  state: dict = dataclasses.field(default_factory=dict)  # Merged into state.method_state.


@dataclasses.dataclass(frozen=True)
class Method:
  """Base class: subclass it as `Method` in `tljax/methods/<name>.py`."""

  streams: ClassVar[tuple[str, ...]] = (SOURCE,)
  defaults: ClassVar[dict] = {}  # The fields of config.method.<name>.
  labels: ClassVar[dict[str, str]] = {}  # metric -> progress-line label.
  capture: ClassVar[str | None] = None  # Regex of module paths whose outputs `loss` reads.
  pretrained: ClassVar[bool] = False  # Needs a pretrained start (model.init_checkpoint).

  @classmethod
  def create(cls, setup: Setup) -> "Method":
    """Reads and checks the method's fields; raises ConfigError on a bad one."""
    del setup
    return cls()

  def init(self, rng: jax.Array, logits: jax.Array, features: jax.Array) -> Extras:
    """Extra networks and state, from the classifier's outputs [N, K], [N, D]."""
    del rng, logits, features
    return Extras()

  def prepare(self, start: Start) -> Prepared:
    """Computed once before training (and again, identically, on resume).

    Instance-weighting methods (kmm, kliep) return source weights from both
    training sets' inputs (the source batches then carry them as "weight");
    delta and co_tuning state from the pretrained start and the labelled target.
    """
    del start
    return Prepared()

  def views(self, batch: dict, rng: jax.Array, augment) -> dict[str, jax.Array]:
    """Inputs of the forward pass by name: every stream through `augment.weak`."""
    return augmented_streams(batch, self.streams, rng, augment)

  def loss(self, out: update.Forward) -> tuple[jax.Array, dict[str, jax.Array]]:
    """(scalar loss to minimise, metrics) from one forward pass."""
    raise NotImplementedError

  def update(self, state, batch: dict, rng: jax.Array, step: update.Step):
    """One train step -> (state, metrics); the default: one gradient of `loss`."""
    return update.gradient_update(self, state, batch, rng, step)


def augmented_streams(batch: dict, streams, rng: jax.Array, augment) -> dict:
  """Each stream's inputs through `augment.weak`, all in one call (one draw per example)."""
  inputs = [batch[s]["input"] for s in streams]
  augmented = augment.weak(inputs[0] if len(inputs) == 1 else jnp.concatenate(inputs), rng)
  ends = [sum(len(x) for x in inputs[: i + 1]) for i in range(len(inputs))]
  return {s: augmented[end - len(x) : end] for s, x, end in zip(streams, inputs, ends)}


def supervised(out: update.Forward, stream: str) -> tuple[jax.Array, dict[str, jax.Array]]:
  """Mean cross-entropy on a labelled stream, with metrics `cls_loss` and `accuracy`."""
  logits, labels = out.logits[stream], out.batch[stream]["label"]
  loss = classification.cross_entropy(logits, labels).mean()
  return loss, {"cls_loss": loss, "accuracy": classification.correct(logits, labels).mean()}


def init_network(module: nn.Module, rng: jax.Array, inputs: jax.Array) -> tuple[dict, dict]:
  """(params, batch_stats) of `module` initialised on `inputs`."""
  variables = module.init(rng, inputs, train=False)
  return variables["params"], variables.get("batch_stats", {})


def create(config: ml_collections.ConfigDict, num_classes: int, input_shape=None) -> Method:
  """The method `config.method.name`, built and checked against `config`."""
  shape = None if input_shape is None else tuple(input_shape)
  setup = Setup("", config.method, config.model, num_classes, config.train.num_steps, shape)
  return setup.build(config.method.name)

"""The method interface: what a transfer method declares and computes.

A method is a frozen dataclass (hashable, so `functools.partial` binds it
into a jitted step) in `tljax/methods/<name>.py`. Each of its settings is one
field declared with `setting(default, rule)`: the config section
`config.method.<name>`, the range check and `create` are all derived from the
fields, so a setting is written once. The run's context (`num_classes`,
`num_steps`, `model`: the `config.model` section, `input_shape`, `unknown`:
whether the target has classes the source lacks) are fields of every method,
filled by `create`; so is `domains`, the number of source domains (several:
the source batches carry each example's "domain", in equal shares). The
shared code asks a method:

- `streams`: the data it reads (`tljax.data.streams`); the loop builds exactly
  these streams and the batch has one entry per stream: SOURCE {"input",
  "label"} (labelled source), TARGET {"input"} (unlabelled target),
  TARGET_LABELLED {"input", "label"} (labelled target: the oracle).
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
  `augment.weak` (images or text, the method need not know which).
- `loss(out)`: its objective and metrics from that pass (`step.Forward`:
  logits and features per view, `out.apply` for its extra networks).
- `update(state, batch, rng, step)`: one train step; the default takes one
  gradient of `loss` (`step.gradient_update`). MCD overrides it.
- `outputs`: how many logits the classifier has (the K source classes by
  default; K + 1 for a method with an "unknown" output), and
  `predict(logits, features, params, batch_stats)`: the labels it predicts at
  evaluation, K meaning "unknown" (argmax of the logits by default): a
  method that rejects unknown target examples owns its rule here.
- `trains`: "all" parameters, only the BatchNorm scales and shifts
  ("batch_norm", Tent), or all but the head's output layer ("features",
  SHOT's frozen hypothesis); the others stay bit-identical. `needs_batch_norm`:
  a network without BatchNorm is a one-line error (the test-time methods).
- `labels`: short names of its metrics for the progress line;
  `monitors()`: watchers of its metrics that warn during training.

The smallest methods are `source_only.py` and `target_only.py`; `coral.py`
adds a setting and a loss, `dann.py` a network, `mcd.py` its own update.
"""

import dataclasses
from typing import Any, Callable, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from tljax.core import classification
from tljax.core import step as step_lib
from tljax.data.streams import LABELLED, SOURCE, TARGET, TARGET_LABELLED
from tljax.errors import ConfigError

__all__ = ["LABELLED", "SOURCE", "TARGET", "TARGET_LABELLED"]  # Re-exported for method files.

Rule = tuple[Callable[[Any], bool], str]
NON_NEGATIVE: Rule = (lambda v: v >= 0, ">= 0")
POSITIVE: Rule = (lambda v: v > 0, "> 0")
POSITIVE_INT: Rule = (lambda v: isinstance(v, int) and v > 0, "an integer > 0")
NON_NEGATIVE_INT: Rule = (lambda v: isinstance(v, int) and v >= 0, "an integer >= 0")
PROBABILITY: Rule = (lambda v: 0 <= v <= 1, "in [0, 1]")
BOOL: Rule = (lambda v: isinstance(v, bool), "True or False")
WIDTHS: Rule = (
  lambda v: all(isinstance(w, int) and w > 0 for w in v),
  "a tuple of layer widths (integers > 0)",
)
_SETTING = "tljax_setting"  # dataclass field metadata key: the field's rule.


def one_of(choices) -> Rule:
  return (lambda v: v in choices, f"one of {list(choices)}")


def setting(default, rule: Rule | None = None):
  """A method field read from `config.method.<name>`: its default and allowed range, once."""
  return dataclasses.field(default=default, metadata={_SETTING: rule})


def settings(cls) -> dict[str, Any]:
  """{name: default} of a method class's settings: its `config.method.<name>` section."""
  return {f.name: f.default for f in dataclasses.fields(cls) if _SETTING in f.metadata}


@dataclasses.dataclass(frozen=True)
class Setup:
  """What a method is built from: the config's method and model sections and the run's shape."""

  name: str  # The method's name (its file).
  method: ml_collections.ConfigDict  # config.method: every method's section.
  model: ml_collections.ConfigDict  # config.model, for extra networks.
  num_classes: int
  num_steps: int  # For schedules over training progress.
  input_shape: tuple[int, ...] | None = None  # One example's [H, W, C] or [L]; None: unknown.
  unknown: bool = False  # The target has classes the source lacks (label num_classes).
  domains: int = 1  # Source domains: data.source lists several (`tljax.data.domains`).

  def context(self) -> dict:
    """The fields every method has besides its settings."""
    return {
      "num_classes": self.num_classes,
      "num_steps": self.num_steps,
      "model": ml_collections.FrozenConfigDict(self.model),
      "input_shape": self.input_shape,
      "unknown": self.unknown,
      "domains": self.domains,
    }

  def read(self, cls) -> dict:
    """Each setting of `cls` from config.method.<name> (its default where absent), checked."""
    section = self.method[self.name] if self.name in self.method else {}
    values = {}
    for f in dataclasses.fields(cls):
      if _SETTING not in f.metadata:
        continue
      value = section[f.name] if f.name in section else f.default
      if isinstance(f.default, tuple) and isinstance(value, list):
        value = tuple(value)  # JSON (config.json) stores tuples as lists.
      rule = f.metadata[_SETTING]
      if rule is not None and not rule[0](value):
        raise ConfigError(f"config.method.{self.name}.{f.name}={value!r} must be {rule[1]}")
      values[f.name] = value
    return values


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
    return step_lib.variables(
      self.variables["params"]["classifier"], self.variables["batch_stats"]["classifier"]
    )

  def outputs(
    self, inputs, batch_size: int = 256, embed: bool = False
  ) -> tuple[jax.Array, jax.Array]:
    """The starting classifier's (logits [N, K], features [N, D]) on `inputs`, evaluation mode;
    with `embed`, the head's last hidden activations (`Classifier.embed`) as the features.

    `inputs` may be images decoded from files batch by batch (`data.images.FileImages`).
    """

    def forward(v, x):
      logits, features = self.classifier.apply(v, x, train=False)
      if embed:
        features = self.classifier.apply(v, features, train=False, method="embed")
      return logits, features

    apply = jax.jit(forward)
    variables = self.classifier_variables()
    parts = [
      apply(variables, np.asarray(inputs[i : i + batch_size]))
      for i in range(0, len(inputs), batch_size)
    ]
    return jnp.concatenate([p[0] for p in parts]), jnp.concatenate([p[1] for p in parts])


@dataclasses.dataclass(frozen=True)
class Prepared:
  """What `Method.prepare` returns."""

  source_weights: Any = None  # [N] weights of the labelled source examples, or None.
  state: dict = dataclasses.field(default_factory=dict)  # Merged into state.method_state.


@dataclasses.dataclass(frozen=True)
class Method:
  """Base class: subclass it as `Method` in `tljax/methods/<name>.py`."""

  streams: ClassVar[tuple[str, ...]] = (SOURCE,)
  labels: ClassVar[dict[str, str]] = {}  # metric -> progress-line label.
  capture: ClassVar[str | None] = None  # Regex of module paths whose outputs `loss` reads.
  pretrained: ClassVar[bool] = False  # Needs a pretrained start (model.init_checkpoint).
  # Which parameters the optimizer updates: "all", "batch_norm" (BatchNorm scale and bias), or
  # "features" (all but the classifier's output layer).
  trains: ClassVar[str] = "all"
  needs_batch_norm: ClassVar[bool] = False  # Adapts BatchNorm (test-time methods): checked.
  # DomainBed's random search over its settings (`tljax.run.trials`): {setting: (low, high,
  # integer?)}, each drawn as 10^U(low, high). Empty: only the learning rate is searched.
  searched: ClassVar[dict[str, tuple[float, float, bool]]] = {}

  num_classes: int = 10
  num_steps: int = 1  # For schedules over training progress.
  model: ml_collections.FrozenConfigDict | None = None  # config.model; None: module defaults.
  input_shape: tuple[int, ...] | None = None  # One example's shape; None: unknown.
  unknown: bool = False  # The target has classes the source lacks: label `num_classes`.
  domains: int = 1  # Source domains; with several, source batches carry "domain" (0..domains-1).

  @classmethod
  def create(cls, setup: Setup) -> "Method":
    """The method with its settings read from `setup` and checked; ConfigError on a bad one."""
    method = cls(**setup.context(), **setup.read(cls))
    model = setup.model
    if cls.needs_batch_norm and model.norm != "batch" and not model.name.startswith("resnet"):
      raise ConfigError(
        f"method {setup.name!r} adapts BatchNorm, and config.model.norm={model.norm!r} has none: "
        "use a source run trained with --config.model.norm=batch"
      )
    method.check(setup)
    return method

  def check(self, setup: Setup) -> None:
    """Checks across settings or outside the config (files a setting names); none by default."""
    del setup

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

  def loss(self, out: step_lib.Forward) -> tuple[jax.Array, dict[str, jax.Array]]:
    """(scalar loss to minimise, metrics) from one forward pass."""
    raise NotImplementedError

  def update(self, state, batch: dict, rng: jax.Array, step: step_lib.Step):
    """One train step -> (state, metrics); the default: one gradient of `loss`."""
    return step_lib.gradient_update(self, state, batch, rng, step)

  @property
  def outputs(self) -> int:
    """How many logits the classifier has: one per source class by default."""
    return self.num_classes

  def predict(self, logits: jax.Array, features: jax.Array, params: dict, batch_stats: dict):
    """Evaluation labels [B] in 0..num_classes (num_classes: "unknown"): the argmax here.

    `params` and `batch_stats` hold the method's own networks (evaluation
    mode) for a rule that reads them (OVANet's one-vs-all heads).
    """
    del features, params, batch_stats
    return jnp.argmax(logits, -1)

  def monitors(self) -> list:
    """Watchers of the logged metrics that warn during training; none by default.

    Each has `update(step, scalars) -> warning or None`, `state()` and
    `restore(state)` (kept with checkpoints), as `adversarial.CollapseMonitor`.
    """
    return []

  @property
  def prepares(self) -> bool:
    """Whether it computes something before training (`prepare`): then its state needs the sets."""
    return type(self).prepare is not Method.prepare

  @property
  def name(self) -> str:
    """The method's name: its file's, as `config.method.name` gives it."""
    return type(self).__module__.rsplit(".", 1)[-1]

  @property
  def source_free(self) -> bool:
    """Whether it adapts a pretrained (source-trained) network on unlabelled target inputs alone:
    its run never opens the source dataset (SHOT, NRC, Tent, ...)."""
    return self.pretrained and tuple(self.streams) == (TARGET,)

  @property
  def reads_target_labels(self) -> bool:
    """Whether it trains on target labels: then it is an oracle, never a label-free choice."""
    return TARGET_LABELLED in self.streams


def prepare(method: Method, classifier: nn.Module, state, sets: dict) -> tuple[Any, dict]:
  """`method.prepare` on its training sets, once, before the first step: (state, sets).

  The state gains the method's prepared state (in `method_state`); the sets
  come back with what the batches must then carry: the SOURCE set gains
  "weight" for instance weighting (`Prepared.source_weights`). Build the
  streams from the returned sets. For a method without `prepare`, both come
  back as they are.

  Args:
    method: the run's method.
    classifier: the classifier module `state` holds the variables of.
    state: the step-0 TrainState (pretrained weights already loaded).
    sets: the training arrays by stream: SOURCE {"input", "label"}, TARGET
      {"input"} and, for a method that reads it, TARGET_LABELLED.
  """
  if not method.prepares:
    return state, sets
  start = Start(classifier, {"params": state.params, "batch_stats": state.batch_stats}, sets)
  prepared = method.prepare(start)
  if prepared.state:
    state = state.replace(method_state={**state.method_state, **prepared.state})
  if prepared.source_weights is not None:
    weights = np.asarray(prepared.source_weights, np.float32)
    sets = {**sets, SOURCE: {**sets[SOURCE], "weight": weights}}
  return state, sets


def augmented_streams(batch: dict, streams, rng: jax.Array, augment) -> dict:
  """Each stream's inputs through `augment.weak`, all in one call (one draw per example)."""
  inputs = [batch[s]["input"] for s in streams]
  augmented = augment.weak(inputs[0] if len(inputs) == 1 else jnp.concatenate(inputs), rng)
  ends = [sum(len(x) for x in inputs[: i + 1]) for i in range(len(inputs))]
  return {s: augmented[end - len(x) : end] for s, x, end in zip(streams, inputs, ends)}


def supervised(
  out: step_lib.Forward, stream: str, smoothing: float = 0.0
) -> tuple[jax.Array, dict[str, jax.Array]]:
  """Mean cross-entropy (labels smoothed by `smoothing`) on a labelled stream, with metrics
  `cls_loss` and `accuracy`."""
  logits, labels = out.logits[stream], out.batch[stream]["label"]
  loss = classification.cross_entropy(logits, labels, smoothing).mean()
  return loss, {"cls_loss": loss, "accuracy": classification.correct(logits, labels).mean()}


def init_network(module: nn.Module, rng: jax.Array, inputs: jax.Array) -> tuple[dict, dict]:
  """(params, batch_stats) of `module` initialised on `inputs`."""
  variables = module.init(rng, inputs, train=False)
  return variables["params"], variables.get("batch_stats", {})


def model_field(model, name: str, default):
  """`model.<name>` of a method's `model` section, or `default` for a method built without one."""
  return default if model is None else model[name]

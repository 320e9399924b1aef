"""DELTA: Li, Xiong, Wang, Huan, Chen, Liu, Xu, Zhu, Wang, Dou, ICLR 2019, "DELTA: DEep
Learning Transfer using Feature Map with Attention for Convolutional Networks".

    L = L_task(labelled target) + trade_off * Omega + head_trade_off * 1/2 ||w_head||^2
    Omega = mean_x sum_l sum_c C_l a_lc / (H_l W_l) * 1/2 ||FM_lc(w, x) - FM_lc(w0, x)||^2

Fine-tuning that keeps the behaviour of the pretrained network w0 rather than
its weights (L2-SP keeps the weights): on each training image, the feature
maps FM_l of the selected layers stay near those w0 computes (w0 frozen,
evaluation mode), channel c weighted by its attention a_lc (softmax over the
layer's C_l channels, so C_l a_lc is 1 everywhere when uniform). The
attention says how much a channel matters to the target task: before
training, a head is fitted on the pretrained features of the labelled target
images (`attention_steps` of Adam, backbone frozen), then each channel's
output is zeroed in turn and the rise of the target cross-entropy measured;
the rises, standardised, go through softmax(. / 5) (the reference recipe,
TLlib's delta.py). TLlib zeroes the channel's filter weights; here the
layer's output channel. `attention=False`: uniform weights (plain feature-map
regularisation). `layers`: a regex over module paths; by default every
convolution of the digits networks, every ResNet block and the text
networks' hidden layers (a [B, C] output counts as a 1 x 1 map). The task loss is
a per-example mean, so Omega is too (TLlib sums Omega over its batch of 48 at
trade_off 0.01, about 0.5 per example: this file's default).
Used as the `delta` mode of `experiments.finetune`.
"""

import dataclasses
import logging

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from tljax import core, models
from tljax.core import classification
from tljax.core import step as step_lib
from tljax.errors import ConfigError
from tljax.models.heads import MLP

log = logging.getLogger("tljax")

DEFAULT_LAYERS = r"^backbone/(Conv_\d+|Dense_\d+|stage\d+_block\d+)$"


def feature_map_distance(current: jax.Array, start: jax.Array, attention: jax.Array) -> jax.Array:
  """Per example [B]: sum_c C a_c / (H W) * 1/2 ||current_c - start_c||^2; maps [B, (H, W,) C]."""
  diff = (current - start).reshape(current.shape[0], -1, current.shape[-1])
  channels, positions = current.shape[-1], diff.shape[1]
  return 0.5 * (channels * attention * (diff**2).sum(1) / positions).sum(-1)


def attention_from_rises(rises: np.ndarray) -> np.ndarray:
  """softmax(standardised loss rises / 5) over a layer's channels (the reference recipe)."""
  rises = np.asarray(rises, np.float64)
  std = rises.std()
  z = (rises - rises.mean()) / (std if std > 0 else 1.0)
  e = np.exp((z - z.max()) / 5.0)
  return (e / e.sum()).astype(np.float32)


def key(path: str) -> str:
  """A module path as a method_state key (checkpoints keep "/" for nesting)."""
  return path.replace("/", ":")


@dataclasses.dataclass(frozen=True)
class Method(core.Method):
  """Cross-entropy on labelled target images, feature maps held near the pretrained ones."""

  streams = (core.TARGET_LABELLED,)
  pretrained = True
  labels = {"feature_maps": "fm"}

  trade_off: float = core.setting(0.5, core.NON_NEGATIVE)
  head_trade_off: float = core.setting(0.01, core.NON_NEGATIVE)
  attention: bool = core.setting(True, core.BOOL)
  attention_steps: int = core.setting(200, core.POSITIVE_INT)
  attention_examples: int = core.setting(512, core.POSITIVE_INT)
  layers: str = core.setting(DEFAULT_LAYERS)  # A regex over module paths.

  @property
  def capture(self) -> str:
    return self.layers

  def prepare(self, start):
    labelled = start.sets[core.TARGET_LABELLED]
    order = np.random.default_rng(0).permutation(len(labelled["label"]))
    take = np.sort(order[: self.attention_examples])
    x, y = jnp.asarray(np.asarray(labelled["input"][take])), jnp.asarray(labelled["label"][take])
    variables = start.classifier_variables()
    shapes = {p: v.shape for p, v in self.start_feature_maps(variables, x[:2]).items()}
    paths = sorted(shapes)
    if not paths:
      raise ConfigError(
        f"config.method.delta.layers={self.layers!r} matches no layer of model "
        f"{self.model.name!r}; give a regex over module paths such as 'backbone/Conv_0'"
      )
    attention = {}
    if self.attention:
      variables = self._fit_head(variables, start, x, y)
    for path in paths:
      channels = shapes[path][-1]
      if self.attention:
        rises = self._loss_rises(start.classifier, variables, x, y, path, channels)
        attention[key(path)] = jnp.asarray(attention_from_rises(rises))
      else:
        attention[key(path)] = jnp.full(channels, 1.0 / channels, jnp.float32)
    log.info(
      "delta: feature maps of %s; attention %s",
      ", ".join(paths),
      "from channel ablation" if self.attention else "uniform",
    )
    start_variables = jax.tree.map(jnp.copy, start.classifier_variables())  # Own buffers.
    return core.Prepared(state={"start": start_variables, "attention": attention})

  def _fit_head(self, variables, start, x, y) -> dict:
    """The classifier's variables with its head fitted on frozen pretrained features."""
    _, features = start.outputs(x)
    head = MLP(tuple(self.model.head_hidden), self.num_classes, norm=self.model.norm)
    head_vars = {"params": variables["params"]["head"]}
    if "batch_stats" in variables:
      head_vars["batch_stats"] = variables["batch_stats"]["head"]
    tx = optax.adam(1e-3)

    def loss(params):
      logits = head.apply({**head_vars, "params": params}, features, train=False)
      return classification.cross_entropy(logits, y).mean()

    @jax.jit
    def fit(params):
      def step(carry, _):
        params, opt = carry
        grads = jax.grad(loss)(params)
        updates, opt = tx.update(grads, opt, params)
        return (optax.apply_updates(params, updates), opt), None

      (params, _), _ = jax.lax.scan(step, (params, tx.init(params)), None, self.attention_steps)
      return params

    params = fit(head_vars["params"])
    log.info("delta: attention head fitted, target cross-entropy %.3f", float(loss(params)))
    return {**variables, "params": {**variables["params"], "head": params}}

  @staticmethod
  def _loss_rises(classifier, variables, x, y, path, channels) -> np.ndarray:
    """Target cross-entropy with each channel of `path`'s output zeroed, minus without."""

    def loss(mask):
      def interceptor(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        if context.method_name == "__call__" and "/".join(context.module.path) == path:
          return out * mask
        return out

      with nn.intercept_methods(interceptor):
        logits, _ = classifier.apply(variables, x, train=False)
      return classification.cross_entropy(logits, y).mean()

    masks = 1.0 - jnp.eye(channels)
    base_loss = jax.jit(loss)(jnp.ones(channels))
    ablated = jax.jit(lambda m: jax.lax.map(loss, m))(masks)
    return np.asarray(ablated - base_loss)

  def start_feature_maps(self, variables, inputs) -> dict:
    """{path: output} of the frozen start network on `inputs`, evaluation mode."""
    classifier = models.build_classifier(self.model, self.num_classes)
    _, inner = classifier.apply(
      variables, inputs, train=False, capture_intermediates=step_lib.capturing(self.layers),
      mutable=["intermediates"],
    )  # fmt: skip
    return step_lib.captured(inner.get("intermediates", {}))

  def loss(self, out):
    loss, metrics = core.supervised(out, core.TARGET_LABELLED)
    state = out.method_state
    start_inner = self.start_feature_maps(state["start"], out.inputs[core.TARGET_LABELLED])
    current = out.intermediates[core.TARGET_LABELLED]
    omega = sum(
      feature_map_distance(
        current[path], jax.lax.stop_gradient(start_inner[path]), state["attention"][key(path)]
      ).mean()
      for path in sorted(current)
    )
    head = out.params["classifier"]["head"]
    head_l2 = 0.5 * sum((w**2).sum() for w in jax.tree.leaves(head))
    total = loss + self.trade_off * omega + self.head_trade_off * head_l2
    return total, {**metrics, "feature_maps": omega, "head_l2": head_l2}

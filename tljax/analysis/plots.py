"""PNG figures: DANN health curves, a t-SNE of source vs target features, accuracy vs labels."""

import numpy as np

from tljax import files, metrics


def _pyplot():
  import matplotlib  # pylint: disable=g-import-not-at-top

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  return plt


read_metrics = metrics.read_records


def _save(fig, png_path: str, dpi: int) -> None:
  with files.replacing(png_path) as tmp:
    fig.savefig(tmp, dpi=dpi, format="png")


def health_curves(
  metrics_path: str, png_path: str, title: str = "", evals: list[dict] | None = None
) -> None:
  """Losses, domain accuracy per domain, λ and lr, and evaluations vs step.

  `evals` (results.json's `eval_history`, which includes the final
  evaluation) replaces the evaluations found in metrics.jsonl when given.
  """
  rows = read_metrics(metrics_path)
  if evals:
    rows = [r for r in rows if not any(k.startswith("eval/") for k in r)]
    rows += [
      {"step": e["step"], **{f"eval/{k[: -len('_accuracy')]}/accuracy": e[k] for k in e
                             if k.endswith("_accuracy")}}
      for e in evals
    ]  # fmt: skip
  plt = _pyplot()
  fig, axes = plt.subplots(1, 4, figsize=(18, 3.8))
  panels = [
    ("losses", ["train/cls_loss", "train/domain_loss"]),
    ("domain classifier accuracy", ["train/domain_acc_source", "train/domain_acc_target"]),
    ("λ (GRL coefficient)", ["train/grl_coeff"]),
    ("evaluation accuracy", ["eval/source_test/accuracy", "eval/target_test/accuracy"]),
  ]
  for ax, (name, keys) in zip(axes, panels):
    for key in keys:
      points = [(r["step"], r[key]) for r in rows if key in r]
      if points:
        ax.plot(*zip(*points), marker=".", label=key.split("/", 1)[1])
    if name == "domain classifier accuracy":
      ax.axhline(0.5, color="gray", linestyle=":", label="chance")
    if name.startswith("λ"):
      lr = [(r["step"], r["train/lr"]) for r in rows if "train/lr" in r]
      if lr:
        twin = ax.twinx()
        twin.plot(*zip(*lr), color="tab:orange", label="lr")
        twin.set_ylabel("learning rate", color="tab:orange")
    ax.set_title(name)
    ax.set_xlabel("step")
    if ax.get_legend_handles_labels()[0]:
      ax.legend(fontsize=7)
  fig.suptitle(title)
  fig.tight_layout()
  _save(fig, png_path, dpi=90)
  plt.close(fig)


def tsne_plot(
  source: tuple[np.ndarray, np.ndarray],
  target: tuple[np.ndarray, np.ndarray],
  png_path: str,
  title: str = "",
  per_domain: int = 500,
  seed: int = 0,
) -> None:
  """t-SNE of (features [N, D], labels [N]) of both domains, by domain and by class."""
  from sklearn.manifold import TSNE  # pylint: disable=g-import-not-at-top

  rng = np.random.default_rng(seed)
  parts = []
  for features, labels in (source, target):
    idx = rng.permutation(len(features))[:per_domain]
    parts.append((features[idx], labels[idx]))
  x = np.concatenate([p[0] for p in parts]).astype(np.float64)
  labels = np.concatenate([p[1] for p in parts])
  domain = np.repeat([0, 1], [len(p[0]) for p in parts])
  embedded = TSNE(n_components=2, random_state=seed, init="pca").fit_transform(x)
  plt = _pyplot()
  fig, (by_domain, by_class) = plt.subplots(1, 2, figsize=(11, 5))
  for d, (name, colour) in enumerate((("source", "tab:blue"), ("target", "tab:red"))):
    mask = domain == d
    by_domain.scatter(*embedded[mask].T, s=4, c=colour, label=name, alpha=0.6)
  by_domain.legend()
  by_domain.set_title("by domain")
  points = by_class.scatter(*embedded.T, s=4, c=labels, cmap="tab10", alpha=0.7)
  by_class.legend(*points.legend_elements(), fontsize=7, title="class")
  by_class.set_title("by class")
  fig.suptitle(title)
  fig.tight_layout()
  _save(fig, png_path, dpi=90)
  plt.close(fig)


def accuracy_vs_labels(
  accuracy: dict, png_path: str, per_class_of: dict[str, float], title: str = ""
) -> None:
  """Target test accuracy vs labelled target images per class, one line per mode.

  `accuracy` is `finetune_table(...)["accuracy"]`; `per_class_of` maps its
  keys ("1", ..., "all") to the x position (images per class; log scale).
  """
  plt = _pyplot()
  fig, ax = plt.subplots(figsize=(6, 4))
  for mode, cells in accuracy.items():
    keys = sorted(cells, key=lambda k: per_class_of[k])
    x = [per_class_of[k] for k in keys]
    mean = np.array([cells[k]["mean"] for k in keys])
    std = np.array([cells[k]["std"] for k in keys])
    ax.errorbar(x, mean, yerr=std, marker="o", capsize=3, label=mode)
  ax.set_xscale("log")
  xs = sorted({per_class_of[k] for cells in accuracy.values() for k in cells})
  labels = {per_class_of[k]: ("all" if k == "all" else k) for c in accuracy.values() for k in c}
  ax.set_xticks(xs, [labels[x] for x in xs])
  ax.set_xlabel("labelled target images per class")
  ax.set_ylabel("target test accuracy")
  ax.grid(alpha=0.3)
  ax.legend()
  ax.set_title(title)
  fig.tight_layout()
  _save(fig, png_path, dpi=100)
  plt.close(fig)


def online_accuracy(results: dict, png_path: str, window: int = 20) -> None:
  """experiments.tta's online accuracy per batch (a running mean over `window` batches) and
  the share of each batch given to its most predicted class (1: collapsed onto one class)."""
  plt = _pyplot()
  batches = results["batches"]
  accuracy = np.array(batches["accuracy"])
  top = np.array(batches["top_class_share"])
  window = max(1, min(window, len(accuracy)))
  smooth = lambda x: np.convolve(x, np.ones(window) / window, mode="valid")  # noqa: E731
  fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
  axes[0].plot(np.arange(len(smooth(accuracy))) + window - 1, smooth(accuracy))
  axes[0].set_ylabel("online accuracy")
  axes[1].plot(np.arange(len(smooth(top))) + window - 1, smooth(top), color="tab:red")
  axes[1].set_ylabel("top class share")
  axes[1].set_xlabel("target batch")
  passes = batches["pass"]
  starts = [i for i in range(len(passes)) if i == 0 or passes[i] != passes[i - 1]]
  for ax in axes:
    ax.grid(alpha=0.3)
    for start in starts[1:]:
      ax.axvline(start, color="grey", lw=0.5)
  plan = results["plan"]
  axes[0].set_title(f"{plan['method']}, {plan['mode']}, {plan['repeats']} passes, lr {plan['lr']}")
  fig.tight_layout()
  _save(fig, png_path, dpi=100)
  plt.close(fig)

"""Data: split sizes, folders against TFDS, streaming."""

import re

from tools.docs_tables.common import (
  accuracies,
  by_method,
  find_runs,
  load_json,
  markdown_table,
  mean_std,
  results_path,
)


def digits_counts() -> str:
  """The embedded digits pair's split sizes (tools.dataset_counts)."""
  data = load_json("data", "counts.json")
  what = {
    "digits": ("source", "gray 28×28×1 (repeated to RGB for the network)"),
    "digits_m": ("target", "RGB 28×28×3 (each train digit on 10 backgrounds)"),
  }
  rows = [
    [f"`{name}`", domain, f"{data[name]['train']['examples']:,}",
     f"{data[name]['test']['examples']:,}", images]
    for name, (domain, images) in what.items()
  ]  # fmt: skip
  return markdown_table(["TFDS name", "domain", "train", "test", "images"], rows)


def sentiment_counts() -> str:
  """The sentiment genres' split sizes and positive shares (tools.dataset_counts)."""
  data = load_json("data", "counts.json")
  genres = {
    "tweets": "tweets",
    "movies": "movie-review sentences",
    "products": "product-review sentences",
    "editorials": "newspaper-editorial sentences",
  }
  positive = lambda s: f"{100 * s['labels'].get('1', 0) / s['examples']:.1f}%"  # noqa: E731
  rows = []
  for genre, words in genres.items():
    d = data[f"sentiment/{genre}"]
    rows.append(
      [f"`sentiment/{genre}`", words, f"{d['train']['examples']:,}", f"{d['test']['examples']:,}",
       f"{positive(d['train'])} / {positive(d['test'])}"]
    )  # fmt: skip
  return markdown_table(["TFDS name", "genre", "train", "test", "positive (train / test)"], rows)


def folder_vs_tfds() -> str:
  """DANN on the embedded digits through the folder path and through the TFDS builders."""
  folder = accuracies(by_method(find_runs("data", "folder_digits"))["dann"])
  tfds = accuracies(by_method(find_runs("methods", "digits_to_digits_m"))["dann"])
  rows = [
    ["`folder:` (PNG folders)", mean_std(folder), ", ".join(f"{a:.3f}" for a in folder)],
    ["TFDS builders (the benchmark)", mean_std(tfds), ", ".join(f"{a:.3f}" for a in tfds)],
  ]
  return markdown_table(["path", "DANN target test acc", "per seed"], rows)


def streaming() -> str:
  """The streamed ResNet-18 run: its log and `/usr/bin/time -v`'s report, committed as written."""
  with open(results_path("data", "streaming_resnet18_time.txt")) as f:
    text = f.read()

  def field(name: str) -> str:
    return re.search(rf"\t{re.escape(name)}: (.+)", text).group(1).strip()

  splits = re.findall(r"(folder:\S+): (\d+) images, ([\d.]+) GB decoded: (.+)", text)
  decoded = sum(float(gb) for _, _, gb, _ in splits)
  rss_gb = int(field("Maximum resident set size (kbytes)")) * 1024 / 1e9
  rows = [[f"`{name}`", images, f"{float(gb):.2f} GB", how] for name, images, gb, how in splits]
  table = markdown_table(["split", "images", "decoded size", "how the run read it"], rows)
  return (
    f"{table}\n\nAll four splits decoded: {decoded:.2f} GB. The run's peak resident set "
    f"size: {rss_gb:.2f} GB (exit status {field('Exit status')}, wall "
    f"{field('Elapsed (wall clock) time (h:mm:ss or m:ss)')}, "
    f"{field('Percent of CPU this job got')} of a CPU), evaluation and PAD included."
  )

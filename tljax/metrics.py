"""Metric logging: JSON lines and TensorBoard events per log step, plus progress lines."""

import io
import json
import logging
import os
import socket
import struct
import time

import numpy as np

log = logging.getLogger("tljax")


class MetricWriter:
  """Appends `{"step": s, name: value, ...}` lines to `workdir/metrics.jsonl`,
  and writes the same scalars (and images) as TensorBoard events in `workdir`.

  Each record is one `write` of a whole line to a file opened for appending.
  A line cut short earlier (power cut, full disk) is ended with a newline
  before the first new record, so it stays one bad line that readers skip
  (`read_records`) instead of swallowing the next record. A resumed run adds
  an event file whose steps continue the same curves (`tensorboard --logdir`).
  """

  def __init__(self, workdir: str, enabled: bool = True):
    self.path = os.path.join(workdir, "metrics.jsonl")
    self.enabled = enabled
    self._checked_tail = False
    self._board = TensorBoard(workdir) if enabled else None

  def write(self, step: int, scalars: dict) -> None:
    if not self.enabled:
      return
    if self._board:
      self._board.scalars(step, scalars)
    record = {"step": int(step), **{k: _plain(v) for k, v in scalars.items()}}
    line = json.dumps(record) + "\n"
    if not self._checked_tail:
      line = ("\n" if _ends_mid_line(self.path) else "") + line
      self._checked_tail = True
    fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
      os.write(fd, line.encode())
    finally:
      os.close(fd)

  def write_images(self, step: int, images: dict) -> None:
    """{tag: uint8 [H, W, 3]} images, TensorBoard only."""
    if self.enabled and self._board:
      self._board.images(step, images)

  def close(self) -> None:
    if self._board:
      self._board.close()


class TensorBoard:
  """TensorBoard event files, written with TensorBoard's protos and no TensorFlow.

  TensorFlow would add ~0.7 GB to every run's memory (clu's SummaryWriter
  imports it); an event file is only TFRecord-framed `Event` protos. Without
  the `tensorboard` package the run goes on with a warning.
  """

  _count = 0

  def __init__(self, logdir: str):
    try:
      from tensorboard.compat.proto import event_pb2, summary_pb2  # pylint: disable=g-import-not-at-top
      from tensorboard.compat.tensorflow_stub import pywrap_tensorflow  # pylint: disable=g-import-not-at-top
    except ImportError as e:
      log.warning("warning: no TensorBoard events (%s); pip install tensorboard", e)
      self._file = None
      return
    self._event, self._summary = event_pb2.Event, summary_pb2.Summary
    self._crc = pywrap_tensorflow.masked_crc32c
    TensorBoard._count += 1
    name = (
      f"events.out.tfevents.{time.time():.0f}.{socket.gethostname()}.{os.getpid()}.{self._count}"
    )
    os.makedirs(logdir, exist_ok=True)
    self._file = open(os.path.join(logdir, name), "ab")  # noqa: SIM115  Closed in close().
    self._write(self._event(wall_time=time.time(), file_version="brain.Event:2"))

  def __bool__(self) -> bool:
    return self._file is not None

  def _write(self, event) -> None:
    data = event.SerializeToString()
    header = struct.pack("<Q", len(data))
    crc = lambda b: struct.pack("<I", self._crc(b))  # noqa: E731
    self._file.write(header + crc(header) + data + crc(data))

  def _values(self, step: int, values: list) -> None:
    summary = self._summary(value=values)
    self._write(self._event(wall_time=time.time(), step=int(step), summary=summary))
    self._file.flush()

  def scalars(self, step: int, scalars: dict) -> None:
    numbers = {k: float(np.asarray(v)) for k, v in scalars.items() if np.ndim(v) == 0}
    self._values(step, [self._summary.Value(tag=k, simple_value=v) for k, v in numbers.items()])

  def images(self, step: int, images: dict) -> None:
    from PIL import Image  # pylint: disable=g-import-not-at-top

    values = []
    for tag, image in images.items():
      image = np.asarray(image, np.uint8)
      png = io.BytesIO()
      Image.fromarray(image).save(png, format="PNG")
      encoded = self._summary.Image(
        height=image.shape[0],
        width=image.shape[1],
        colorspace=3,
        encoded_image_string=png.getvalue(),
      )
      values.append(self._summary.Value(tag=tag, image=encoded))
    self._values(step, values)

  def close(self) -> None:
    if self._file is not None:
      self._file.close()
      self._file = None


def confusion_image(confusion, cell: int = 12) -> np.ndarray:
  """A confusion matrix [K, K] (rows: true class) as uint8 [K*cell, K*cell, 3]: white is 0,
  dark blue a row's whole mass, each row normalised."""
  counts = np.asarray(confusion, np.float64)
  share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
  colour = np.array([255.0, 255.0, 255.0]) - share[..., None] * np.array([225.0, 180.0, 80.0])
  return np.repeat(np.repeat(colour, cell, axis=0), cell, axis=1).astype(np.uint8)


def _ends_mid_line(path: str) -> bool:
  if not os.path.exists(path) or os.path.getsize(path) == 0:
    return False
  with open(path, "rb") as f:
    f.seek(-1, os.SEEK_END)
    return f.read(1) != b"\n"


def read_records(path: str) -> list[dict]:
  """Every well-formed JSON line of a metrics file; a bad line is skipped with a warning."""
  records = []
  with open(path, errors="replace") as f:
    for number, line in enumerate(f, 1):
      if not line.strip():
        continue
      try:
        record = json.loads(line)
      except json.JSONDecodeError:
        log.warning("warning: %s line %d is not a whole JSON record (cut short?); skipped",
                    path, number)  # fmt: skip
        continue
      if isinstance(record, dict) and "step" in record:
        records.append(record)
  return records


def eval_history(workdir: str) -> list[dict]:
  """The evaluations in `workdir/metrics.jsonl`, across resumes, one per step.

  Returns [{"step", "<split>_accuracy", ..., "validators": {...}}] sorted by
  step; a step evaluated twice (a resumed run repeating it) keeps its last entry.
  """
  path = os.path.join(workdir, "metrics.jsonl")
  by_step = {}
  for record in read_records(path) if os.path.exists(path) else []:
    if not any(k.startswith("eval/") for k in record):
      continue
    entry = {"step": record["step"]}
    for key, value in record.items():
      if key.startswith("eval/") and key.count("/") == 2:
        _, split, measure = key.split("/")
        entry[f"{split}_{measure}"] = value
      elif key.startswith("validators/"):
        entry.setdefault("validators", {})[key.split("/", 1)[1]] = value
    by_step[record["step"]] = entry
  return [by_step[s] for s in sorted(by_step)]


def _plain(value):
  value = np.asarray(value)
  return value.item() if value.ndim == 0 else value.tolist()


def mean_metrics(history: list[dict]) -> dict[str, float]:
  """Averages a list of per-step metric dicts (already on the host); scalars only (a test-time
  method's per-example `predictions` are read by experiments.tta, not logged)."""
  scalars = [k for k, v in history[0].items() if np.ndim(v) == 0]
  return {k: float(np.mean([m[k] for m in history])) for k in scalars}


def format_duration(seconds: float) -> str:
  seconds = int(round(seconds))
  m, s = divmod(seconds, 60)
  h, m = divmod(m, 60)
  return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


# Progress-line labels of the metrics every step reports; methods add their own
# (`Method.labels`), shown between `acc` and `lr`.
LABELS = {"loss": "loss", "cls_loss": "cls", "accuracy": "acc", "lr": "lr"}


def progress_line(
  step: int, num_steps: int, scalars: dict, steps_per_sec: float, labels: dict | None = None
) -> str:
  """'step 200/3000 | loss 1.23 cls 0.40 ... | 35.2 steps/s ETA 1m20s'.

  Shows the metrics named in `labels` (metric -> label; default `LABELS`), in its order.
  """
  labels = LABELS if labels is None else labels
  order = [k for k in labels if k != "lr"] + ["lr"]
  parts = [f"{labels[k]} {scalars[k]:.4g}" for k in order if k in scalars and k in labels]
  eta = (num_steps - step) / max(steps_per_sec, 1e-9)
  return (
    f"step {step}/{num_steps} | {' '.join(parts)} | "
    f"{steps_per_sec:.1f} steps/s ETA {format_duration(eta)}"
  )

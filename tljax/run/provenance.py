"""Where a run ran: process/device topology, library versions and the source's git commit."""

import importlib.metadata
import os
import subprocess

import jax

LIBRARIES = ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy", "tensorflow-datasets")


def topology(parallel: str) -> dict:
  """What the batches of a run depend on besides its config (see `splits.training_streams`)."""
  return {
    "process_count": jax.process_count(),
    "device_count": jax.device_count(),
    "parallel": parallel,
    "backend": jax.default_backend(),
  }


def versions() -> dict:
  out = {}
  for name in LIBRARIES:
    try:
      out[name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
      out[name] = None
  return out


def git_commit() -> str | None:
  """HEAD of the tljax checkout in use, with '+dirty' for uncommitted changes (None outside git)."""
  source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  try:
    head = subprocess.run(
      ["git", "-C", source, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
    )
    if head.returncode != 0:
      return None
    dirty = subprocess.run(
      ["git", "-C", source, "status", "--porcelain", "--untracked-files=no"],
      capture_output=True,
      text=True,
      timeout=10,
    )
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
  except (OSError, subprocess.SubprocessError):
    return None


def record(parallel: str) -> dict:
  return {"topology": topology(parallel), "versions": versions(), "git_commit": git_commit()}


def resume_problems(saved: dict, now: dict) -> tuple[list[str], list[str]]:
  """(refusals, warnings) for resuming a run recorded as `saved` under `now`.

  A different process count changes every batch (each process streams its
  own shard), so resuming would silently change the run: refused. Another
  device count or library version keeps the batches but not bit-exactness:
  a warning.
  """
  refuse, warn = [], []
  old_t, new_t = saved.get("topology", {}), now["topology"]
  if old_t.get("process_count") not in (None, new_t["process_count"]):
    refuse.append(f"process_count {old_t['process_count']} -> {new_t['process_count']}")
  for key in ("device_count", "parallel", "backend"):
    if old_t.get(key) not in (None, new_t[key]):
      warn.append(f"{key} {old_t[key]} -> {new_t[key]}")
  for name, version in now["versions"].items():
    old = saved.get("versions", {}).get(name)
    if old not in (None, version):
      warn.append(f"{name} {old} -> {version}")
  return refuse, warn

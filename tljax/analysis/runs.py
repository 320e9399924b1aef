"""Finished runs on disk: every results.json below some roots, each counted once.

A run is a directory holding a results.json of status "finished". The walk
follows symlinks (a root may collect runs by linking to them) but visits each
real directory once, so a link to a run, or a link loop, never counts a run
twice. A results.json that is not a finished run's (a list, missing keys,
numbers as strings) is named in a warning and skipped: one bad file never
stops a table.
"""

import dataclasses
import logging
import numbers
import os

from tljax import files
from tljax.upgrade import upgrade

log = logging.getLogger("tljax")

FILE = "results.json"
# What a table reads from a finished run, and the type each must have.
REQUIRED = {
  "source": str,
  "target": str,
  "method": str,
  "seed": int,
  "steps": int,
  "source_test_accuracy": (numbers.Real, type(None)),  # None: a source-free run.
  "target_test_accuracy": numbers.Real,
  "wall_seconds": numbers.Real,
  "config": dict,
}


@dataclasses.dataclass
class Run:
  """One finished run: where it is, under which root, and its results.json."""

  path: str  # The run's directory.
  root: str  # The root it was found under (as given).
  results: dict

  @property
  def config(self) -> dict:
    """The run's stored config in today's fields (`tljax.upgrade`)."""
    return upgrade(self.results["config"])

  def field(self, dotted: str):
    """A config field of the run, e.g. "method.dann.trade_off" (None if the run lacks it)."""
    value = self.config
    for part in dotted.split("."):
      if not isinstance(value, dict) or part not in value:
        return None
      value = value[part]
    return value

  @property
  def task(self) -> tuple[str, str, int]:
    """(source, target, seed): runs a label-free choice may compare."""
    r = self.results
    return r["source"], r["target"], r["seed"]

  @property
  def reads_target_labels(self) -> bool:
    """Whether the run trained on target labels (an oracle, never a label-free choice)."""
    stored = self.results.get("reads_target_labels")
    if isinstance(stored, bool):
      return stored
    return _method_reads_target_labels(self.results["config"])


def problem(results) -> str | None:
  """Why `results` is not a finished run's results.json (None if it is one)."""
  if not isinstance(results, dict):
    return f"holds a {type(results).__name__}, not an object"
  if results.get("status") != "finished":
    return None  # Unfinished or diverged: not a problem, just not a run to tabulate.
  for key, kind in REQUIRED.items():
    if key not in results:
      return f"has no {key!r}"
    value = results[key]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
      return f"{key!r} is {value!r}, not {getattr(kind, '__name__', kind)}"
  return None


def find(roots: list[str]) -> list[Run]:
  """Every finished run below each root, each real directory once, sorted by path."""
  seen, runs = set(), []
  for root in roots:
    for directory in _directories(root, seen):
      path = os.path.join(directory, FILE)
      if not os.path.isfile(path):
        continue
      results = files.read_json(path)  # Unreadable JSON: named and skipped there.
      if results is None:
        continue
      why = problem(results)
      if why:
        log.warning("warning: skipping %s: it %s", path, why)
        continue
      if results.get("status") == "finished":
        runs.append(Run(directory, root, results))
  return runs


def finished(workdir: str) -> bool:
  """Whether `workdir` holds a finished run's results.json."""
  path = os.path.join(workdir, FILE)
  if not os.path.isfile(path):
    return False
  results = files.read_json(path)
  return results is not None and problem(results) is None and results.get("status") == "finished"


def _directories(root: str, seen: set):
  """`root` and the directories below it, following links, each real directory once."""
  for directory, subdirs, _ in os.walk(root, followlinks=True):
    real = os.path.realpath(directory)
    if real in seen:
      subdirs[:] = []  # Reached again (a link or a loop): its runs are counted already.
      continue
    seen.add(real)
    subdirs.sort()
    yield directory


def _method_reads_target_labels(config: dict) -> bool:
  """For runs stored before results.json said so: whether the run's method reads target labels.

  A method it cannot find counts as reading them (it is then never a label-free choice).
  """
  from tljax import methods  # pylint: disable=g-import-not-at-top
  from tljax.errors import ConfigError  # pylint: disable=g-import-not-at-top

  name = (config.get("method") or {}).get("name")
  try:
    return methods.find(name)().reads_target_labels
  except ConfigError:
    log.warning("warning: unknown method %r: not counted as a label-free choice", name)
    return True

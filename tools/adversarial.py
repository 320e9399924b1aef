"""Tries tljax as an adversarial user would; writes each case's outcome for docs/reliability.md.

    python -m tools.adversarial --out docs/results/reliability/cases.json   # about 10 min

Each case runs the real commands (`python -m experiments.dann ...` on the tiny
config and the embedded digits) in a scratch directory and records what
happened: the exit status, the last line on stderr, and whether the outcome
is the expected one (one `error:` line and exit 2 for bad input, exit 75
with a checkpoint for SIGTERM, a rerun that recovers after a kill, ...).
Root is needed for the cases that mount a small tmpfs (a full disk) or a
read-only bind mount; elsewhere they are recorded as not run.
"""

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = "--config=configs/digits.py:tiny"


class Scratch:
  """A scratch directory, the prepared embedded data and the commands run in them."""

  def __init__(self, root: str):
    self.root = root
    self.data_dir = os.path.join(root, "tfds")
    self.env = {**os.environ, "JAX_PLATFORMS": "cpu"}

  def path(self, *parts) -> str:
    return os.path.join(self.root, *parts)

  def command(self, module: str, *args, workdir: str | None = None, data: bool = True) -> list:
    cmd = [sys.executable, "-m", module, *args]
    if data:
      cmd.append(f"--config.data.data_dir={self.data_dir}")
    if workdir is not None:
      cmd.append(f"--workdir={workdir}")
    return cmd

  def run(self, module: str, *args, workdir=None, data=True, timeout=300, env=None):
    cmd = self.command(module, *args, workdir=workdir, data=data)
    proc = subprocess.run(
      cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env or self.env
    )
    return proc.returncode, _last_line(proc.stderr)

  def start(self, module: str, *args, workdir=None):
    cmd = self.command(module, *args, workdir=workdir)
    return subprocess.Popen(cmd, cwd=ROOT, env=self.env, stderr=subprocess.PIPE, text=True)


def _last_line(text: str) -> str:
  lines = [line for line in text.strip().splitlines() if line.strip()]
  return lines[-1][:300] if lines else ""


def _one_line(code: int, line: str) -> bool:
  return code == 2 and line.startswith("error: ")


def _results(workdir: str) -> dict | None:
  try:
    with open(os.path.join(workdir, "results.json")) as f:
      return json.load(f)
  except (OSError, json.JSONDecodeError):
    return None


def _wait_for(path: str, proc, seconds: float = 120) -> bool:
  deadline = time.time() + seconds
  while time.time() < deadline and proc.poll() is None:
    if os.path.exists(path):
      return True
    time.sleep(0.05)
  return os.path.exists(path)


@contextlib.contextmanager
def _mounted(target: str, *options):
  """A mount for the duration (tmpfs, or a read-only bind); None where mounting is refused."""
  os.makedirs(target, exist_ok=True)
  ok = subprocess.run(["mount", *options, target], capture_output=True).returncode == 0
  try:
    yield ok
  finally:
    if ok:
      subprocess.run(["umount", "-l", target], capture_output=True)


CASES = []


def case(group: str, what: str):
  def register(fn):
    CASES.append((group, what, fn))
    return fn

  return register


# --- Interruptions ----------------------------------------------------------------------------


@case("interruptions", "kill -9 during the final evaluation; then rerun")
def _kill_in_final_eval(s: Scratch):
  work = s.path("kill_final")
  proc = s.start("experiments.dann", TINY, "--config.train.num_steps=60", workdir=work)
  _wait_for(os.path.join(work, "checkpoints", "60"), proc)
  time.sleep(0.2)
  proc.kill()
  proc.wait()
  code, line = s.run("experiments.dann", TINY, "--config.train.num_steps=60", workdir=work)
  r = _results(work) or {}
  ok = code == 0 and r.get("status") == "finished" and r.get("steps") == 60
  return (
    f"killed: exit {proc.returncode}; rerun exit {code}, "
    f"resumed from step {r.get('resumed_from_step')}",
    ok,
  )


@case("interruptions", "kill -9 while results.json is replaced (a rerun of a finished run)")
def _kill_while_replacing(s: Scratch):
  work = s.path("kill_results")
  s.run("experiments.dann", TINY, workdir=work)
  before = _results(work)
  states = []
  for delay in (0.5, 1.0, 1.5, 2.0, 3.0):
    proc = s.start("experiments.dann", TINY, workdir=work)
    time.sleep(delay)
    proc.kill()
    proc.wait()
    states.append(_results(work) is not None)
  ok = before is not None and all(states)
  return f"results.json whole after each of {len(states)} kills: {all(states)}", ok


@case("interruptions", "kill -9 during the first checkpoint's write; then rerun")
def _kill_first_checkpoint(s: Scratch):
  work = s.path("kill_first_ckpt")
  proc = s.start("experiments.dann", TINY, "--config.train.ckpt_every=3", workdir=work)
  deadline = time.time() + 120
  ckpts = os.path.join(work, "checkpoints")
  while time.time() < deadline and proc.poll() is None:
    if os.path.isdir(ckpts) and os.listdir(ckpts):
      break
    time.sleep(0.01)
  proc.kill()
  proc.wait()
  code, _ = s.run("experiments.dann", TINY, "--config.train.ckpt_every=3", workdir=work)
  r = _results(work) or {}
  return f"rerun exit {code}, {r.get('status')}, resumed from step {r.get('resumed_from_step')}", (
    code == 0 and r.get("status") == "finished"
  )


def _signal_twice(s: Scratch, signum: int, name: str):
  work = s.path(f"twice_{name}")
  proc = s.start(
    "experiments.dann", TINY, "--config.train.num_steps=100000", "--config.train.ckpt_every=100000",
    workdir=work,
  )  # fmt: skip
  _wait_for(os.path.join(work, "metrics.jsonl"), proc)
  proc.send_signal(signum)
  proc.send_signal(signum)
  _, err = proc.communicate(timeout=120)
  saved = os.listdir(os.path.join(work, "checkpoints")) if os.path.isdir(work) else []
  return proc.returncode, _last_line(err), saved


@case("interruptions", "SIGTERM twice, quickly")
def _sigterm_twice(s: Scratch):
  code, line, saved = _signal_twice(s, signal.SIGTERM, "term")
  return f"exit {code}, checkpoint {saved}: {line}", code == 75 and bool(saved)


@case("interruptions", "Ctrl-C (SIGINT) during training")
def _sigint(s: Scratch):
  code, line, saved = _signal_twice(s, signal.SIGINT, "int")
  return f"exit {code}, checkpoint {saved}: {line}", code == 130 and bool(saved)


@case("interruptions", "a resume on another device count (8 host devices, then 1)")
def _other_devices(s: Scratch):
  work = s.path("devices")
  env8 = {**s.env, "XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
  first = s.command("experiments.dann", TINY, "--config.parallel=sharded", workdir=work)
  subprocess.run(first, cwd=ROOT, env=env8, capture_output=True, timeout=300)
  code, line = s.run(
    "experiments.dann", TINY, "--config.parallel=sharded", "--config.train.num_steps=12",
    "--allow_config_change", workdir=work,
  )  # fmt: skip
  r = _results(work) or {}
  warned = any("another setup" in w for w in r.get("warnings", []))
  return f"exit {code}, resumed from {r.get('resumed_from_step')}, warned: {warned}", code == 0


# --- Disks and workdirs -----------------------------------------------------------------------


@case("disks", "a full disk (a 1 MB tmpfs workdir) during a checkpoint")
def _full_disk(s: Scratch):
  mount = s.path("tmpfs")
  with _mounted(mount, "-t", "tmpfs", "-o", "size=1m", "tmpfs") as ok:
    if not ok:
      return "not run: mounting a tmpfs was refused", None
    code, line = s.run("experiments.dann", TINY, workdir=os.path.join(mount, "run"))
  return f"exit {code}: {line}", code != 0 and line.startswith("error: ")


@case("disks", "a full disk while results.json is written (room for checkpoints, not results)")
def _full_disk_results(s: Scratch):
  mount = s.path("tmpfs2")
  with _mounted(mount, "-t", "tmpfs", "-o", "size=3m", "tmpfs") as ok:
    if not ok:
      return "not run: mounting a tmpfs was refused", None
    work = os.path.join(mount, "run")
    code, line = s.run("experiments.dann", TINY, workdir=work)
    filler = os.path.join(mount, "filler")
    with open(filler, "wb") as f:  # Fill what is left, then rerun: the evaluation must write.
      with contextlib.suppress(OSError):
        while True:
          f.write(b"\0" * 65536)
          f.flush()
    os.remove(os.path.join(work, "results.json")) if os.path.exists(
      os.path.join(work, "results.json")
    ) else None
    code, line = s.run("experiments.dann", TINY, workdir=work)
  return f"exit {code}: {line}", code != 0 and line.startswith("error: ")


@case("disks", "a read-only copy of a finished run: report, extract_features, summarize")
def _read_only(s: Scratch):
  work = s.path("ro_source", "run")
  s.run("experiments.dann", TINY, workdir=work)
  mount = s.path("ro")
  with _mounted(mount, "--bind", "-o", "ro", s.path("ro_source")) as ok:
    if not ok:
      return "not run: a read-only bind mount was refused", None
    subprocess.run(["mount", "-o", "remount,ro,bind", mount], capture_output=True)
    run = os.path.join(mount, "run")
    report = subprocess.run(
      [sys.executable, "-m", "experiments.report", "--workdir", mount], cwd=ROOT,
      capture_output=True, text=True, env=s.env, timeout=300,
    )  # fmt: skip
    out = s.path("features")
    features = subprocess.run(
      [sys.executable, "-m", "experiments.extract_features", "--workdir", run, "--out", out],
      cwd=ROOT, capture_output=True, text=True, env=s.env, timeout=300,
    )  # fmt: skip
    summary = subprocess.run(
      [sys.executable, "-m", "experiments.summarize", mount], cwd=ROOT, capture_output=True,
      text=True, env=s.env, timeout=300,
    )  # fmt: skip
  codes = (report.returncode, features.returncode, summary.returncode)
  return f"exits {codes}; report: {_last_line(report.stderr)}", codes == (0, 0, 0)


@case("workdirs", "a workdir path with spaces and non-ASCII letters")
def _odd_path(s: Scratch):
  code, _ = s.run("experiments.dann", TINY, workdir=s.path("my runs", "café ü"))
  return f"exit {code}", code == 0


@case("workdirs", "a workdir that is a regular file")
def _workdir_file(s: Scratch):
  path = s.path("a_file")
  open(path, "w").close()
  code, line = s.run("experiments.dann", TINY, workdir=path)
  return f"exit {code}: {line}", _one_line(code, line)


@case("workdirs", "a workdir that is a dangling symbolic link")
def _dangling(s: Scratch):
  path = s.path("dangling")
  os.symlink(s.path("nowhere"), path)
  code, line = s.run("experiments.dann", TINY, workdir=path)
  return f"exit {code}: {line}", _one_line(code, line)


@case("workdirs", "a lock file that is a symbolic link to another file")
def _lock_link(s: Scratch):
  work, victim = s.path("lock_link"), s.path("victim.txt")
  os.makedirs(work)
  with open(victim, "w") as f:
    f.write("precious")
  os.symlink(victim, os.path.join(work, ".lock"))
  code, line = s.run("experiments.dann", TINY, workdir=work)
  intact = open(victim).read() == "precious"
  return f"exit {code}: {line}; the link's target unchanged: {intact}", _one_line(
    code, line
  ) and intact


@case("workdirs", "two sweeps over one root at once")
def _two_sweeps(s: Scratch):
  root = s.path("two_sweeps")
  args = ("experiments.sweep", TINY, "--grid=seed=0,1", "--config.train.num_steps=200")
  first = s.start(*args, workdir=root)
  _wait_for(os.path.join(root, "seed=0", "metrics.jsonl"), first)
  code, line = s.run(*args, workdir=root)
  first.wait(timeout=300)
  return f"second sweep: exit {code}: {line}; first: exit {first.returncode}", (
    _one_line(code, line) and first.returncode == 0
  )


# --- Data ---------------------------------------------------------------------------------------


def _png(path: str, size=(8, 8)):
  from PIL import Image  # pylint: disable=g-import-not-at-top

  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(np.random.default_rng(0).integers(0, 255, (*size, 3), np.uint8)).save(path)


def _folder_run(s: Scratch, name: str, build):
  source, target = s.path(name, "source"), s.path(name, "target")
  for root in (source, target):
    for c in ("a", "b"):
      for i in range(6):
        _png(os.path.join(root, c, f"{i}.png"))
    build(root)
  code, line = s.run(
    "experiments.dann", TINY, f"--config.data.source=folder:{source}",
    f"--config.data.target=folder:{target}", "--config.data.image_size=16",
    workdir=s.path(name, "run"),
  )  # fmt: skip
  return code, line, _results(s.path(name, "run"))


def _folder_case(name: str, what: str, build):
  @case("data", what)
  def _run(s: Scratch):
    code, line, r = _folder_run(s, name, build)
    recall = (r or {}).get("final", {}).get("target_test", {}).get("per_class_recall")
    return f"exit {code}, finished: {bool(r)}, target recall per class {recall}; {line}", (
      code == 0 and bool(r)
    )

  return _run


def _empty_class(root):
  os.makedirs(os.path.join(root, "c"))


def _one_image_class(root):
  _png(os.path.join(root, "d", "0.png"))


def _tiny_and_huge(root):
  _png(os.path.join(root, "a", "1x1.png"), (1, 1))
  _png(os.path.join(root, "a", "big.png"), (10000, 10000))


def _text_as_jpg(root):
  with open(os.path.join(root, "a", "x.jpg"), "w") as f:
    f.write("not an image")


def _link_loop(root):
  os.symlink(os.path.join(root, "a", "l.png"), os.path.join(root, "a", "l.png"))


def _latin1_name(root):
  name = os.path.join(os.fsencode(root), b"a", b"caf\xe9.png")
  _png(name.decode("utf-8", "surrogateescape"))


_folder_case("empty_class", "image folders with an empty class", _empty_class)
_folder_case("one_image", "a class of one image (no test image of it)", _one_image_class)
_folder_case("tiny_huge", "a 1x1 and a 10000x10000 image", _tiny_and_huge)
_folder_case("text_jpg", "a text file named .jpg", _text_as_jpg)
_folder_case("loop", "a symbolic link loop among the images", _link_loop)
_folder_case("latin1", "a file name that is not UTF-8", _latin1_name)


@case("data", "1,000 classes of one image each")
def _thousand(s: Scratch):
  root = s.path("thousand")
  for c in range(1000):
    _png(os.path.join(root, f"c{c:04d}", "0.png"), (4, 4))
  code, line = s.run(
    "experiments.dann", TINY, f"--config.data.source=folder:{root}",
    f"--config.data.target=folder:{root}", "--config.data.image_size=16", workdir=s.path("t_run"),
  )  # fmt: skip
  return f"exit {code}: {line}", _one_line(code, line)


@case("data", "data.target equal to data.source")
def _same_domain(s: Scratch):
  code, _ = s.run("experiments.dann", TINY, "--config.data.target=digits", workdir=s.path("same"))
  r = _results(s.path("same")) or {}
  return (
    f"exit {code}, proxy A-distance in pixels {r.get('proxy_a_distance', {}).get('pixels')}",
    code == 0,
  )


@case("data", "a truncated sentiment archive in manual_dir")
def _truncated_archive(s: Scratch):
  manual = s.path("sentiment_manual")
  os.makedirs(manual)
  with open(os.path.join(manual, "hutto_ICWSM_2014.tar.gz"), "wb") as f:
    f.write(zlib.compress(b"x" * 1000)[:50])
  code, line = s.run(
    "experiments.dann", "--config=configs/sentiment.py:tiny", f"--config.data.manual_dir={manual}",
    workdir=s.path("sent"),
  )  # fmt: skip
  return f"exit {code}: {line}", _one_line(code, line)


# --- Values ---------------------------------------------------------------------------------------


def _value_case(what: str, args: tuple, expect: str):
  @case("values", what)
  def _run(s: Scratch):
    work = s.path("values", what.replace(" ", "_").replace("/", "_"))
    code, line = s.run("experiments.dann", TINY, *args, workdir=work)
    if expect == "refused":
      return f"exit {code}: {line}", _one_line(code, line)
    if expect == "diverges":
      kept = os.path.isdir(os.path.join(work, "checkpoints"))
      return f"exit {code}: {line[:160]}; last good checkpoint kept: {kept}", code == 1 and kept
    r = _results(work) or {}
    return f"exit {code}, {r.get('status')}", code == 0 and r.get("status") == "finished"

  return _run


_value_case("optim.lr=0", ("--config.optim.lr=0",), "refused")
_value_case("optim.lr=1e9", ("--config.optim.lr=1e9", "--config.train.ckpt_every=2"), "diverges")
_value_case("batch size 1", ("--config.data.batch_size=1",), "runs")
_value_case(
  "a batch larger than a split (1000 > 300 test images)",
  ("--config.data.batch_size=1000", "--config.train.num_steps=2"),
  "runs",
)
_value_case("train.num_steps=0", ("--config.train.num_steps=0",), "refused")
_value_case("eval_every larger than num_steps", ("--config.train.eval_every=1000",), "runs")
_value_case("a negative seed", ("--config.seed=-1",), "refused")
_value_case("a seed of 2**32", ("--config.seed=4294967296",), "refused")
_value_case("random_shift=300 on 28-px images", ("--config.data.random_shift=300",), "refused")
_value_case("test_fraction=-0.2", ("--config.data.test_fraction=-0.2",), "refused")


@case("values", "a grid with no points, and a grid with a duplicate point")
def _bad_grids(s: Scratch):
  a = s.run("experiments.sweep", TINY, "--grid=seed=", workdir=s.path("g1"))
  b = s.run("experiments.sweep", TINY, "--grid=seed=1,1", workdir=s.path("g2"))
  return f"exits {a[0]}, {b[0]}: {a[1]} / {b[1]}", _one_line(*a) and _one_line(*b)


@case("values", "grid values with shell metacharacters")
def _shell_grid(s: Scratch):
  root = s.path("shell")
  code, _ = s.run(
    "experiments.sweep", TINY, "--grid=method.name=dann", "--grid=data.rename_classes=$(touch x);x",
    "--config.train.num_steps=2", workdir=root,
  )  # fmt: skip
  made = os.path.exists(os.path.join(ROOT, "x"))
  return f"exit {code}; a file created by the value: {made}", not made


# --- Prerequisites ----------------------------------------------------------------------------


def _prerequisite_case(what: str, make):
  @case("prerequisites", what)
  def _run(s: Scratch):
    args = make(s)
    code, line = s.run("experiments.dann", TINY, *args, workdir=s.path("pre", what[:20]))
    return f"exit {code}: {line}", _one_line(code, line)

  return _run


def _finished_tiny(s: Scratch, name: str, *args) -> str:
  work = s.path("teachers", name)
  if not os.path.exists(os.path.join(work, "results.json")):
    s.run("experiments.dann", TINY, "--config.method.name=source_only", *args, workdir=work)
  return work


_prerequisite_case("distill without a teacher", lambda s: ("--config.method.name=distill",))
PARITY = "--config.data.merge_classes=even=0,2,4,6,8;odd=1,3,5,7,9"


def _parity(s: Scratch) -> str:
  return _finished_tiny(s, "parity", PARITY)


def _distill_parity(s: Scratch):
  return ("--config.method.name=distill", f"--config.method.distill.teacher={_parity(s)}")


def _distill_text(s: Scratch):
  return ("--config.method.name=distill", f"--config.method.distill.teacher={s.path('text_run')}")


def _co_tuning_parity(s: Scratch):
  skip = "--config.model.skip_load=('head/Dense_0',)"
  return ("--config.method.name=co_tuning", f"--config.model.init_checkpoint={_parity(s)}", skip)


_prerequisite_case("distill with a teacher of other classes (even/odd digits)", _distill_parity)
_prerequisite_case("distill with a teacher that is a text run", _distill_text)
_prerequisite_case("delta without model.init_checkpoint", lambda s: ("--config.method.name=delta",))
_prerequisite_case("co_tuning from a checkpoint of other classes", _co_tuning_parity)
_prerequisite_case(
  "model.init_checkpoint that does not exist",
  lambda s: (f"--config.model.init_checkpoint={s.path('none')}",),
)


# --- Security ---------------------------------------------------------------------------------


@case("security", "weights with pickled objects (.npz object arrays)")
def _pickle(s: Scratch):
  path = s.path("objects.npz")
  np.savez(path, w=np.array([{"a": 1}], dtype=object))
  code, line = s.run(
    "experiments.dann", TINY, f"--config.model.torch_weights={path}", workdir=s.path("pk")
  )
  return f"exit {code}: {line}", _one_line(code, line)


@case(
  "security", "a crafted results.json with paths and code in its fields, then summarize and report"
)
def _crafted_results(s: Scratch):
  root = s.path("crafted")
  run = os.path.join(root, "run")
  os.makedirs(run)
  crafted = {
    "status": "finished", "method": "../../../escaped",
    "source": "__import__('os').system('touch pwned')", "target": "b", "seed": 0,
    "steps": 1, "wall_seconds": 1.0, "source_test_accuracy": 0.5, "target_test_accuracy": 0.5,
    "config": {"method": {"name": "../../../escaped"}},
  }  # fmt: skip
  with open(os.path.join(run, "results.json"), "w") as f:
    json.dump(crafted, f)
  commands = (
    ("experiments.summarize", [root]),
    ("experiments.report", ["--workdir", root, "--no_analysis"]),
  )
  outs = [
    subprocess.run(
      [sys.executable, "-m", m, *a], cwd=ROOT, capture_output=True, env=s.env, timeout=300
    )
    for m, a in commands
  ]
  escaped = [p for p in (os.path.join(ROOT, "pwned"), s.path("escaped")) if os.path.exists(p)]
  written = sorted(os.listdir(root))
  return (
    f"exits {[o.returncode for o in outs]}; files outside the root: {escaped}; "
    f"root holds {written}",
    not escaped,
  )


CHECKS = len(CASES)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default="runs/reliability/cases.json")
  parser.add_argument("--only", default="", help="run the cases whose text contains this")
  args = parser.parse_args()
  outcomes = []
  with tempfile.TemporaryDirectory() as scratch_dir:
    s = Scratch(scratch_dir)
    from tljax.data import pipeline  # pylint: disable=g-import-not-at-top

    for name in ("digits", "digits_m"):
      pipeline.load_split(name, "test", data_dir=s.data_dir)
    os.makedirs(s.path("text_run", "checkpoints"))  # A text run's workdir, as a teacher.
    with open(s.path("text_run", "config.json"), "w") as f:
      json.dump({"model": {"name": "text_bag"}}, f)
    for group, what, fn in CASES:
      if args.only not in what:
        continue
      start = time.time()
      try:
        outcome, ok = fn(s)
      except Exception as e:  # pylint: disable=broad-except  (a case that breaks the tool itself)
        outcome, ok = f"the check itself failed: {type(e).__name__}: {e}"[:300], False
      seconds = round(time.time() - start, 1)
      outcomes.append(
        {"group": group, "case": what, "outcome": outcome, "as_expected": ok, "seconds": seconds}
      )
      print(
        f"[{'ok' if ok else 'NOT OK' if ok is False else 'not run'}] {what}: {outcome}",
        file=sys.stderr,
      )
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump({"cases": outcomes, "python": sys.version.split()[0]}, f, indent=2)
  print(
    f"wrote {args.out}: {sum(o['as_expected'] is True for o in outcomes)} of {len(outcomes)} "
    "as expected",
    file=sys.stderr,
  )


if __name__ == "__main__":
  main()

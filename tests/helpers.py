"""Helpers shared by several test modules."""

import os

import numpy as np

from tljax import checkpoint, core, methods
from tljax.data import splits
from tljax.run import build

# XLA:CPU's newer fusion emitters compile the tests' many small programs about 2.5x slower than
# its older ones (a tiny-model DANN step: ~1.5 s against ~0.6 s). Every test process and every
# worker it starts runs with this flag (conftest.py, `worker_env`), so results compared between
# processes come from the same compiler either way. Users' runs keep XLA's default.
TEST_XLA_FLAGS = "--xla_cpu_use_fusion_emitters=false"


def worker_env(
  devices: int, extra_xla_flags: str = "", optimize: bool = False, test_flags: bool = True
) -> dict:
  """The environment of a subprocess on `devices` CPU devices, compiled as the tests' own
  (`test_flags`) or with XLA's defaults."""
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  ours = TEST_XLA_FLAGS if test_flags else ""
  flags = f"--xla_force_host_platform_device_count={devices} {ours} {extra_xla_flags}"
  env["XLA_FLAGS"] = flags.strip()
  env["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "0" if optimize else "1"
  return env


def results(method="dann", seed=0, acc=0.5, **fields) -> dict:
  """A finished run's results.json with the fields tables read (others as given)."""
  return {
    "status": "finished",
    "method": method,
    "seed": seed,
    "source": "a",
    "target": "b",
    "steps": 10,
    "wall_seconds": 1.0,
    "source_test_accuracy": 0.9,
    "target_test_accuracy": acc,
    "config": {"method": {"name": method}, "seed": seed},
    **fields,
  }


def final_state(config, workdir):
  """(newest restorable TrainState in `workdir`, its step) for `config`."""
  data = splits.load_domains(config.data)
  sets = splits.training_sets(config, data, methods.create(config, 10).streams)
  state = build.build(config, data.source_train["input"].shape[1:], 10, sets).state
  manager = checkpoint.make_manager(str(workdir))
  restored, step = checkpoint.restore_latest(manager, state)
  manager.close()
  return restored, step


def provide_teacher(config, image_shape, num_classes: int, workdir) -> None:
  """A saved source_only state of the model, for a method that reads one.

  As `teacher` for a method with that field (distill); as
  `model.init_checkpoint` for one that needs a pretrained start (delta, co_tuning,
  the test-time methods, which also need BatchNorm: `model.norm` becomes "batch").
  """
  if methods.find(config.method.name).needs_batch_norm:
    config.model.norm = "batch"
  section = config.method[config.method.name]
  needs_start = methods.find(config.method.name).pretrained and not config.model.init_checkpoint
  if "teacher" not in section and not needs_start:
    return
  save_source_only(config, image_shape, num_classes, workdir)
  if "teacher" in section:
    section.teacher = str(workdir)
  if needs_start:
    config.model.init_checkpoint = str(workdir)


def save_source_only(config, image_shape, num_classes: int, workdir) -> str:
  """Saves a fresh source_only state of the model in `workdir`, as a run would; returns it."""
  start = config.copy_and_resolve_references()
  start.method.name = "source_only"
  start.model.init_checkpoint = None
  manager = checkpoint.make_manager(str(workdir))
  checkpoint.save(manager, build.build(start, image_shape, num_classes).state)
  manager.wait_until_finished()
  manager.close()
  return str(workdir)


def built(config, shape, num_classes: int, rng):
  """`build.build` with a synthetic batch of every stream as the training sets it prepares on."""
  from benchmarks import bench  # pylint: disable=g-import-not-at-top

  sets = bench.synthetic_batch(config, tuple(core.LABELLED), rng)
  return build.build(config, shape, num_classes, sets)


def update_mismatches(reference: dict, other: dict, rtol: float = 1e-3, ulps: float = 16):
  """Leaves of two saved runs (tests/parallel_worker.py) whose training differs.

  Compares the *updates* (final - init) of every leaf of the state (params,
  optimizer state, BatchNorm statistics, EMA weights, method state) relative
  to their own size: |u_other - u_ref|_max <= rtol |u_ref|_max + atol, where
  atol is `ulps` float32 rounding steps of the leaf's largest value (other
  summation orders on other devices differ by a few). A leaf the reference
  never moved by more than atol is returned in the second list (the
  control: a trained leaf must be there only if it should not train).
  Integer leaves (step counters) must be equal.
  """
  bad, still = [], []
  for key in sorted(k for k in reference.files if k.startswith("final/")):
    init = reference["init/" + key[len("final/") :]]
    ref, got = reference[key], other[key]
    if not np.issubdtype(ref.dtype, np.floating):
      if not np.array_equal(ref, got):
        bad.append(f"{key}: {ref} != {got}")
      continue
    u_ref = ref.astype(np.float64) - init
    u_got = got.astype(np.float64) - init
    size = np.abs(u_ref).max() if u_ref.size else 0.0
    atol = ulps * np.finfo(np.float32).eps * (np.abs(ref).max() if ref.size else 0.0)
    if size <= atol:
      still.append(key)
    error = np.abs(u_got - u_ref).max() if u_ref.size else 0.0
    if error > rtol * size + atol:
      bad.append(f"{key}: update differs by {error:.3g}, update size {size:.3g}")
  return bad, still


# The methods never see the modality; what audio or text changes is the network, its inputs and
# views. One method per way of touching them: plain (dann), views (self_training), captured
# intermediates (delta), a prepare pass over the inputs (kliep), extra heads and their own update
# (mcd), BatchNorm adaptation (tent), an "unknown" output (osbp). Every method steps on images in
# tests/test_methods.py, under jit and sharded jit.
INTERFACE_METHODS = ("dann", "self_training", "delta", "kliep", "mcd", "tent", "osbp")

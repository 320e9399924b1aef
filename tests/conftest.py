"""Shared fixtures: fast compiles, the tiny config, embedded data built once."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # Tests run on the CPU.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import jax  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top

jax.config.update("jax_disable_most_optimizations", True)

from tests.helpers import TEST_XLA_FLAGS  # noqa: E402

# Read when JAX starts its backend (the first computation), inherited by the runs tests start.
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {TEST_XLA_FLAGS}".strip()

# One persistent XLA compilation cache for the command-line runs the tests start: most of them
# compile the same tiny programs. Not for the test processes themselves, whose programs are
# mostly compiled once (writing each costs more than it saves). Removed when the session ends.
jax.config.update("jax_enable_compilation_cache", False)
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
  _cache = tempfile.mkdtemp(prefix="tljax-tests-xla-cache-")
  os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
  atexit.register(shutil.rmtree, _cache, ignore_errors=True)
  os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
  os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"


@pytest.fixture(autouse=True)
def _keep_xla_flags():
  """Entry points called in-process add XLA flags to os.environ; later subprocesses
  must start with this process's own flags, or their maths differs from ours."""
  before = os.environ.get("XLA_FLAGS")
  yield
  if before is None:
    os.environ.pop("XLA_FLAGS", None)
  else:
    os.environ["XLA_FLAGS"] = before


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
  """A TFDS data dir holding the embedded digits and digits_m datasets."""
  from tljax.data import pipeline  # pylint: disable=g-import-not-at-top

  path = str(tmp_path_factory.mktemp("tfds"))
  for name in ("digits", "digits_m"):
    pipeline.load_split(name, "test", data_dir=path)
  return path


@pytest.fixture
def tiny_config(data_dir):
  from configs import digits  # pylint: disable=g-import-not-at-top

  config = digits.get_config("tiny")
  config.data.data_dir = data_dir
  return config


@pytest.fixture(scope="session")
def digit_folders(data_dir, tmp_path_factory):
  """The embedded digits and digits_m written as PNG class folders: {name: root}."""
  from tljax.data import folders, pipeline  # pylint: disable=g-import-not-at-top

  root = tmp_path_factory.mktemp("folders")
  for name in ("digits", "digits_m"):
    names = pipeline.class_names(name, data_dir)
    for split in ("train", "test"):
      folders.write_split(
        pipeline.load_split(name, split, data_dir=data_dir), root / name, split, names
      )
  return {name: str(root / name) for name in ("digits", "digits_m")}


@pytest.fixture(autouse=True, scope="session")
def _each_prepared_split_read_once():
  """In-process runs read the same prepared TFDS splits again and again (decoding every image
  each time): each test process reads a (dataset, split, data dir, manual dir, shard) once. The
  arrays come back read-only, so a run that wrote into them would fail here, not corrupt the
  next test's data. Command-line runs (subprocesses) read as users' do."""
  from tljax.data import pipeline  # pylint: disable=g-import-not-at-top

  read, cache = pipeline._read_split, {}  # pylint: disable=protected-access

  def read_once(name, split, data_dir, manual_dir, shard):
    key = (name, split, data_dir or pipeline.default_data_dir(), manual_dir, tuple(shard))
    if key not in cache:
      arrays, builder = read(name, split, data_dir, manual_dir, shard)
      for array in arrays.values():
        array.flags.writeable = False
      cache[key] = arrays, builder
    arrays, builder = cache[key]
    return dict(arrays), builder

  pipeline._read_split = read_once  # pylint: disable=protected-access
  yield
  pipeline._read_split = read  # pylint: disable=protected-access

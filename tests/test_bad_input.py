"""Malformed input: exit 2, one `error:` line, no traceback.

The README's "Bad input" table lists these cases. Those a config check
catches (`validate_config`: a value out of range, an unknown name) are
checked in this process for their message, and two of them through the real
command line too; every other case (flag parsing, config files, damaged
data and weights, the workdir) runs as `python -m experiments.dann`,
three at a time (each mostly imports JAX and TensorFlow).
"""

import ast
import concurrent.futures
import gzip
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = "--config=configs/digits.py:tiny"

# (command-line arguments after `python -m experiments.dann`, expected text of the error line).
# {tmp}: this test's scratch directory; {data}: the embedded datasets' TFDS dir.
CASES = [
  ([TINY, "--config.method.name=dannn"], "config.method.name='dannn' is unknown; choose one of"),
  ([TINY, "--config.optim.lr=-0.1"], "config.optim.lr=-0.1 must be > 0"),
  ([TINY, "--config.data.source=mnist_x"], "config.data.source='mnist_x' is unknown"),
  ([TINY, "--config.data.target=svhn"], "config.data.target='svhn' is unknown"),
  ([TINY, "--config.model.name=resnet_x"], "config.model.name='resnet_x' is unknown"),
  ([TINY, "--config.data.manual_dir=/nonexistent/mnist"], "/nonexistent/mnist does not exist"),
  ([TINY, "--config.parallel=gpus"], "config.parallel='gpus' is unknown"),
  ([TINY, "--config.optim.name=lamb"], "config.optim.name='lamb' is unknown"),
  ([TINY, "--config.optim.schedule=cosine"], "config.optim.schedule='cosine' is unknown"),
  ([TINY, "--config.model.input_norm=zscore"], "config.model.input_norm='zscore' is unknown"),
  ([TINY, "--config.data.batch_size=0"], "config.data.batch_size=0 must be > 0"),
  ([TINY, "--config.train.num_steps=0"], "config.train.num_steps=0 must be > 0"),
  ([TINY, "--config.data.channels=0"], "config.data.channels=0 must be > 0"),
  ([TINY, "--config.model.dropout=1.5"], "config.model.dropout=1.5 must be in [0, 1)"),
  ([TINY, "--config.train.ema_decay=1.0"], "config.train.ema_decay=1.0 must be in [0, 1)"),
  ([TINY, "--config.train.seeds_program=grouped"], "seeds_program='grouped' must be one of"),
  ([TINY, "--config.optim.momentum=1.5"], "config.optim.momentum=1.5 must be in [0, 1)"),
  ([TINY, "--config.optim.clip_norm=-1"], "config.optim.clip_norm=-1.0 must be >= 0"),
  ([TINY, "--config.optim.weight_decay=-0.1"], "config.optim.weight_decay=-0.1 must be >= 0"),
  ([TINY, "--config.optim.lr_alpha=-1"], "config.optim.lr_alpha=-1.0 must be >= 0"),
  ([TINY, "--config.data.random_shift=-2"], "config.data.random_shift=-2 must be >= 0"),
  ([TINY, "--config.data.target_labels_per_class=-1"], "target_labels_per_class=-1 must be >= 0"),
  (
    ["--config=configs/digits.py", "--config.data.image_size=12"],
    "config.data.image_size=12: model 'digits_net' cannot take 12x12",
  ),  # fmt: skip
  ([TINY, "--config.method.dann.trade_off=-1.0"], "config.method.dann.trade_off=-1.0 must be >= 0"),
  ([TINY, "--config.method.dann.grl_max=-1"], "config.method.dann.grl_max=-1.0 must be >= 0"),
  ([TINY, "--config.method.mcd.num_k=0", "--config.method.name=mcd"], "num_k=0 must be an integer"),
  (
    [TINY, "--config.method.name=cdan", "--config.method.cdan.map=exact"],
    "map='exact' must be one",
  ),
  ([TINY, "--config.method.name=mcc", "--config.method.mcc.base=mcd"], "has its own update"),
  (
    [TINY, "--config.method.name=self_training", "--config.method.self_training.threshold=2"],
    "threshold=2.0 must be in [0, 1]",
  ),  # fmt: skip
  ([TINY, "--config.optim.l2sp_alpha=0.1"], "l2sp_alpha=0.1 regularises toward pretrained weights"),
  ([TINY, "--config.method.name=shot"], "set config.model.init_checkpoint to a finished run"),
  (
    [
      TINY,
      "--config.method.name=nrc",
      "--config.model.init_checkpoint=/nonexistent/run",
      "--config.data.target_classes=a",
    ],
    "'nrc' is source-free and keeps the target's classes as they are",
  ),  # fmt: skip
  (
    [
      "--config=configs/digits.py:tiny,shot",
      "--config.method.name=shot",
      "--config.model.init_checkpoint={tmp}/mlp_source",
    ],
    "config.model.head='bottleneck', but the source run in config.model.init_checkpoint=",
  ),  # fmt: skip
  ([TINY, "--config.model.skip_load=('head[',)"], "config.model.skip_load: 'head[' is not a regex"),
  ([TINY, "--config.model.init_checkpoint=/nonexistent/run"], "init_checkpoint='/nonexistent/run'"),
  ([TINY, "--config.no_such_field=1"], "--config.no_such_field: the config has no field"),
  ([TINY, "--config.optim.lrr=0.1"], "no field 'optim.lrr'; did you mean --config.optim.lr"),
  ([TINY, "--config.optim.lr=abc"], "could not convert string to float: 'abc'"),
  (["--config=configs/no_such_config.py"], "cannot load --config configs/no_such_config.py"),
  (["--config=configs/digits.py:tinyy"], "unknown config argument 'tinyy'"),
  ([TINY, "--config.model.torch_weights={tmp}/not_a_zip.npz"], "is not a readable .npz"),
  ([TINY, "--config.model.torch_weights={tmp}/objects.npz"], "is not a readable .npz"),
  ([TINY, "--config.model.torch_weights={tmp}/conv1_only.npz"], "none of its arrays fits the tiny"),
  (
    [TINY, "--config.data.source=mnist", "--config.data.manual_dir={tmp}/mnist_truncated"],
    "train-images-idx3-ubyte.gz cannot be read",
  ),  # fmt: skip
  (
    [TINY, "--config.data.source=mnist", "--config.data.manual_dir={tmp}/mnist_magic"],
    "is not an IDX file of unsigned bytes",
  ),  # fmt: skip
  ([TINY, "--config.data.data_dir={tmp}/tfds_damaged"], "the prepared copy of dataset 'digits'"),
  ([TINY, "--workdir={tmp}/a_file/run"], "Not a directory"),
]


def _idx(shape, magic=b"\x00\x00\x08") -> bytes:
  data = np.zeros(shape, np.uint8)
  return (
    magic + bytes([len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape) + data.tobytes()
  )


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, data_dir):
  """Damaged files for the cases that read them."""
  tmp = tmp_path_factory.mktemp("bad_input")
  (tmp / "not_a_zip.npz").write_bytes(b"this is not a zip archive")
  np.savez(tmp / "objects.npz", w=np.array([{"a": 1}], dtype=object))
  np.savez(tmp / "conv1_only.npz", **{"conv1.weight": np.zeros((64, 3, 7, 7), np.float32)})
  files = {"train-images-idx3-ubyte": (8, 28, 28), "train-labels-idx1-ubyte": (8,),
           "t10k-images-idx3-ubyte": (8, 28, 28), "t10k-labels-idx1-ubyte": (8,)}  # fmt: skip
  for kind in ("mnist_truncated", "mnist_magic"):
    (tmp / kind).mkdir()
    for name, shape in files.items():
      magic = b"\x00\x00\x0d" if kind == "mnist_magic" else b"\x00\x00\x08"
      body = gzip.compress(_idx(shape, magic))
      if kind == "mnist_truncated" and name.startswith("train-images"):
        body = body[: len(body) // 2]  # A download cut short.
      (tmp / kind / f"{name}.gz").write_bytes(body)
  shutil.copytree(data_dir, tmp / "tfds_damaged")
  for root, _, names in os.walk(tmp / "tfds_damaged" / "digits"):
    for name in names:
      if ".tfrecord" in name:
        path = os.path.join(root, name)
        data = open(path, "rb").read()
        open(path, "wb").write(data[:100] + b"x" * 64 + data[164:])
  (tmp / "a_file").write_text("a file where a directory should be")
  (tmp / "mlp_source").mkdir()  # A source run of the plain head (its config; no weights needed).
  (tmp / "mlp_source" / "config.json").write_text('{"model": {"name": "tiny", "head": "mlp"}}')
  return tmp


def _run(args: list[str], tmp, data_dir) -> subprocess.CompletedProcess:
  args = [a.format(tmp=tmp, data=data_dir) for a in args]
  if not any(a.startswith("--workdir") for a in args):
    args.append(f"--workdir={tmp}/runs/{abs(hash(tuple(args)))}")
  if not any(a.startswith("--config.data.data_dir") for a in args):
    args.append(f"--config.data.data_dir={data_dir}")
  cmd = [sys.executable, "-m", "experiments.dann", *args]
  return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


CLI_ONLY = ("--config.no_such_field", "--config.optim.lrr", "--config.optim.lr=abc", "manual_dir")
CLI_TOO = ("--config.method.name=dannn",)  # The path every config check's error takes.
# Also through the command line in test_reliability.py (weights that fit nothing).
ELSEWHERE = ("--config.model.torch_weights={tmp}/conv1_only.npz",)


def _config_checked(args: list[str]) -> bool:
  """A case `validate_config` catches: overrides of the tiny config's fields, nothing else."""
  return (
    args[0] == TINY
    and all(a.startswith("--config.") and "{" not in a for a in args[1:])
    and not any(a.startswith(CLI_ONLY) or "manual_dir" in a for a in args)
  )


def _override(config, arg: str) -> None:
  """`--config.a.b=V` as the command line sets it (V read as a Python literal if it is one)."""
  field, _, text = arg[len("--config.") :].partition("=")
  try:
    value = ast.literal_eval(text)
  except (ValueError, SyntaxError):
    value = text
  *parents, leaf = field.split(".")
  node = config
  for name in parents:
    node = node[name]
  node[leaf] = value


def test_config_checks_name_the_bad_value():
  from configs import digits  # pylint: disable=g-import-not-at-top
  from tljax.errors import ConfigError  # pylint: disable=g-import-not-at-top
  from tljax.run import validate  # pylint: disable=g-import-not-at-top

  checked = [(args, message) for args, message in CASES if _config_checked(args)]
  assert len(checked) >= 25
  for args, message in checked:
    config = digits.get_config("tiny")
    for arg in args[1:]:
      _override(config, arg)
    with pytest.raises(ConfigError) as error:
      validate.validate_config(config)
    assert message in str(error.value) and "\n" not in str(error.value), args


def test_every_malformed_input_is_one_line_and_exit_2(scratch, data_dir):
  assert len(CASES) >= 30
  cli_cases = [
    c
    for c in CASES
    if (not _config_checked(c[0]) or any(a in CLI_TOO for a in c[0]))
    and not any(a in ELSEWHERE for a in c[0])
  ]
  assert len(cli_cases) >= 14
  with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
    results = list(pool.map(lambda case: _run(case[0], scratch, data_dir), cli_cases))
  failures = []
  for (args, message), result in zip(cli_cases, results):
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    ok = (
      result.returncode == 2
      and len(errors) == 1
      and message in errors[0]
      and "Traceback" not in result.stderr
    )
    if not ok:
      failures.append(f"{args} -> exit {result.returncode}: {result.stderr[-600:]}")
  assert not failures, "\n\n".join(failures)

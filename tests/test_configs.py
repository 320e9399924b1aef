"""Every config builds; the argument parser rejects what it does not know."""

import glob
import importlib
import os

import pytest

from configs import common

CONFIGS = sorted(
  os.path.splitext(os.path.basename(p))[0]
  for p in glob.glob(os.path.join(os.path.dirname(__file__), "..", "configs", "*.py"))
  if not p.endswith(("__init__.py", "common.py"))
)


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("arg", [None, "tiny"])
def test_config_builds(name, arg):
  config = importlib.import_module(f"configs.{name}").get_config(arg)
  for section in ("data", "model", "optim", "method", "train"):
    assert section in config
  assert config.train.num_steps > 0


def test_parse_arg_casts_and_rejects_unknown_keys():
  args = common.parse_arg("tiny,seeds=3", tiny=False, seeds=1)
  assert args.tiny is True and args.seeds == 3
  with pytest.raises(ValueError, match="unknown config argument 'sead'"):
    common.parse_arg("sead=3", seeds=1)

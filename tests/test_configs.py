"""Every config and each of its documented variants passes the run's whole config check."""

import glob
import importlib
import os

import pytest

from configs import common
from tljax.run import validate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(
  os.path.splitext(os.path.basename(p))[0]
  for p in glob.glob(os.path.join(ROOT, "configs", "*.py"))
  if not p.endswith(("__init__.py", "common.py")) and not os.path.basename(p).startswith("dann_")
)
# Each config's arguments after the colon (its docstring documents them), and their combinations.
VARIANTS = {
  "digits": ["paper", "tiny", "paper,tiny", "partial", "openset", "universal", "openset,tiny"],
  "mnist_mnistm": ["paper", "tiny", "partial", "openset", "universal"],
  "sentiment": ["conv", "tiny", "tiny,conv"],
  "office31": ["source=dslr,target=amazon", "tiny"],
  "office_home": ["source=Product,target=Real_World", "tiny"],
  "visda2017": ["tiny"],
  "domainnet": ["source=clipart,target=painting", "tiny"],
  "domainbed_mnist": ["tiny", "colored", "colored,tiny", "domainbed", "colored,test=2"],
  "digits_five": ["tiny", "test=4", "test=0,tiny"],
}


def _cases():
  for name in CONFIGS:
    for arg in [None, *VARIANTS.get(name, ["tiny"])]:
      yield name, arg


@pytest.mark.parametrize("name,arg", list(_cases()))
def test_every_config_and_variant_validates(name, arg):
  config = importlib.import_module(f"configs.{name}").get_config(arg)
  method = validate.validate_config(config)  # Every check a run makes before loading data.
  assert method.name == config.method.name
  if arg and "tiny" in arg:  # Small enough for a test (a small real network, few steps).
    assert config.train.num_steps < 20 and config.data.batch_size <= 16


def test_a_method_sized_by_the_input_validates():
  """iw_erm on="inputs" builds its domain classifier on pooled inputs: the config check must
  give it the input shape (it crashed with a ValueError when it did not)."""
  config = importlib.import_module("configs.iw_digits").get_config()
  config.method.name, config.method.iw_erm.on = "iw_erm", "inputs"
  assert validate.validate_config(config).on == "inputs"


def test_the_paper_variant_is_the_published_recipe_and_the_default_is_tljaxs():
  from configs import digits  # pylint: disable=g-import-not-at-top

  paper, recipe = digits.get_config("paper"), digits.get_config()
  assert (paper.model.input_norm, paper.data.random_shift) == ("scale", 0)
  assert (recipe.model.input_norm, recipe.data.random_shift) == ("per_image", 2)
  for name in ("dann", "cdan", "cdan_e"):  # Every discriminator of the recipe is widened.
    assert paper.method[name].discriminator_hidden == (100,)
    assert recipe.method[name].discriminator_hidden == (500, 500)


@pytest.mark.parametrize("old", [p for p in os.listdir(os.path.join(ROOT, "configs"))
                                 if p.startswith("dann_")])  # fmt: skip
def test_the_old_config_names_are_the_renamed_configs(old):
  new = old[len("dann_") : -len(".py")]
  renamed = importlib.import_module(f"configs.{old[:-3]}").get_config()
  assert renamed == importlib.import_module(f"configs.{new}").get_config()


def test_parse_arg_casts_and_rejects_unknown_keys():
  args = common.parse_arg("tiny,seeds=3", tiny=False, seeds=1)
  assert args.tiny is True and args.seeds == 3
  with pytest.raises(ValueError, match="unknown config argument 'sead'"):
    common.parse_arg("sead=3", seeds=1)


@pytest.mark.parametrize("config_name, shape", [("digits", (28, 28, 3))])
def test_every_method_passes_the_config_check_on_images(config_name, shape, tmp_path):
  """validate_config sizes each method's networks on the run's inputs (CDAN's init once took
  the placeholder logits' shape for an array there and crashed every CDAN run on images)."""
  from tests import helpers  # pylint: disable=g-import-not-at-top
  from tljax import methods  # pylint: disable=g-import-not-at-top

  for name in methods.names():
    config = importlib.import_module(f"configs.{config_name}").get_config()
    config.method.name = name
    helpers.provide_teacher(config, shape, 10, tmp_path / name)  # Teachers, pretrained starts.
    assert validate.validate_config(config).name == name

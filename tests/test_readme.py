"""The README's code stays true: its train-step snippet runs as printed."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_train_step_snippet_runs():
  readme = open(os.path.join(ROOT, "README.md")).read()
  section = readme.split("## Using the train step in your own code", 1)[1]
  code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
  namespace = {}
  exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
  assert int(namespace["state"].step) == 1
  assert {"loss", "domain_loss", "grl_coeff"} <= set(namespace["metrics"])

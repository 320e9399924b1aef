"""The core (models, methods, steps) must run where TensorFlow is absent."""

import subprocess
import sys

CORE = ["tljax.models", "tljax.methods.dann", "tljax.methods.augment", "tljax.train",
        "tljax.train.parallel", "tljax.checkpoint", "tljax.metrics"]  # fmt: skip


def test_core_modules_do_not_import_tensorflow():
  code = (
    f"import sys\nfor m in {CORE!r}: __import__(m)\n"
    "tf = ('tensorflow', 'tensorflow_datasets')\n"
    "bad = sorted(m for m in sys.modules if m.split('.')[0] in tf)\n"
    "assert not bad, bad"
  )
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
  assert result.returncode == 0, result.stderr[-2000:]

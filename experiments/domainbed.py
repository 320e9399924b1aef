"""Domain generalisation with DomainBed's protocol: every test environment in turn, methods x
hyperparameter trials x seeds, model selection by DomainBed's rules, its results table.

    python -m experiments.domainbed --config configs/domainbed_mnist.py:rotated \\
        --config.data.manual_dir=../shared/data/mnist --workdir runs/domainbed/rotated \\
        --methods=source_only,irm,vrex,group_dro --trials=3 --seeds=0,1,2

Each run trains in WORKDIR/test=<env>/method=<name>/trial=<k>/seed=<s> on every
environment of `config.data.environments` but the test one (a rerun skips
finished runs and resumes unfinished ones). Trial 0 is each method's defaults;
trials k > 0 draw the learning rate and the method's weights as DomainBed does
(`tljax/run/trials.py`). WORKDIR/summary.md then holds one table per selection
rule (`tljax/analysis/domainbed.py`): training-domain validation, and the
oracle, test-domain validation, apart.
"""

import logging
import os
import sys

from absl import app, flags

from tljax.analysis import runs as runs_lib
from tljax.data import domains
from tljax.run import cli
from tljax.run import domainbed as protocol

_METHODS = flags.DEFINE_list("methods", ["source_only"], "config.method.name values.")
_TRIALS = flags.DEFINE_integer("trials", 1, "Hyperparameter trials per method (0: defaults).")
_SEEDS = flags.DEFINE_list("seeds", ["0"], "Seeds per trial.")
_TESTS = flags.DEFINE_list("tests", [], "Test environments (0-based); default: every one.")
_LODO = flags.DEFINE_bool(
  "leave_one_domain_out",
  False,
  "Also train each trial without each training environment, scored on it (DomainBed's third "
  "selection rule; one more run per training environment).",
)
_SINGLE = flags.DEFINE_bool(
  "single_sources", False, "Also train source_only on each other environment alone (baselines)."
)


def main(argv):
  del argv
  cli.start()
  log = logging.getLogger("tljax")
  config, root = cli.CONFIG.value, cli.WORKDIR.value
  if not root:
    sys.exit("error: give --workdir, the root of the runs")
  if "environments" not in config.data:
    sys.exit("error: the config has no data.environments; start from configs/domainbed_mnist.py")
  seeds = [int(s) for s in _SEEDS.value]
  tests = [int(t) for t in _TESTS.value]
  runs = cli.exit_on_user_error(
    lambda: list(
      protocol.points(
        config, _METHODS.value, _TRIALS.value, seeds, tests, _SINGLE.value, _LODO.value
      )
    )
  )
  for i, (name, point) in enumerate(runs):
    workdir = os.path.join(root, name)
    if runs_lib.finished(workdir):
      log.info("[%d/%d] %s: finished earlier, skipped", i + 1, len(runs), name)
      continue
    log.info("[%d/%d] %s", i + 1, len(runs), name)
    cli.train(point, workdir, exit_on_divergence=False)
  print(protocol.summarize(root, domains.names(config.data.environments)))
  print(f"wrote {os.path.join(root, 'summary.md')}", file=sys.stderr)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)

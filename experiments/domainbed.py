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

from tljax import files
from tljax.analysis import domainbed as domainbed_lib
from tljax.analysis import runs as runs_lib
from tljax.data import domains
from tljax.run import cli, sweep, trials

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


def points(config, methods, trial_count, seeds, tests, single_sources=False, lodo=False):
  """(run directory, config) for every test environment, method, trial and seed; with
  `single_sources`, also `source_only` from each other environment alone, per seed; with
  `lodo`, each trial and seed also without each training environment j, j the target
  (directory `.../trial=<k>/val=<j>/seed=<s>`), for leave-one-domain-out validation."""
  environments = domains.check("environments", config.data.environments)
  for test in tests if tests else range(len(environments)):
    for source in environments if single_sources else []:
      if source == environments[test]:
        continue
      for seed in seeds:
        point = config.copy_and_resolve_references()
        with point.unlocked():
          domains.leave_one_out(point.data, environments, test)
          point.data.source, point.method.name, point.seed = source, "source_only", seed
          point.data.batch_size //= len(environments) - 1  # One source's share of a batch.
          point.data.source_val_size //= len(environments) - 1
        yield f"test={test}/single={sweep.directory_name(source)}/seed={seed}", point
    for method in methods:
      for trial in range(trial_count):
        for seed in seeds:
          point = config.copy_and_resolve_references()
          with point.unlocked():
            domains.leave_one_out(point.data, environments, test)
            point.method.name, point.seed = method, seed
            for field, value in trials.overrides(method, trial).items():
              sweep.set_field(point, field, value)
          name = f"test={test}/method={method}/trial={trial}/seed={seed}"
          yield name, point
          for held in [i for i in range(len(environments)) if i != test] if lodo else []:
            out = point.copy_and_resolve_references()
            rest = [e for i, e in enumerate(environments) if i not in (test, held)]
            with out.unlocked():
              out.data.source, out.data.target = ",".join(rest), environments[held]
              out.data.batch_size = point.data.batch_size // len(environments[1:]) * len(rest)
              out.data.source_val_size = (
                point.data.source_val_size // len(environments[1:]) * len(rest)
              )
            yield f"test={test}/method={method}/trial={trial}/val={held}/seed={seed}", out


def summarize(root: str, environments: list[str]) -> str:
  """summary.md: DomainBed's table under each selection rule, the oracle's apart."""
  found = runs_lib.find([root])
  parts = []
  for rule, (_, reads) in domainbed_lib.RULES.items():
    chosen = domainbed_lib.picks(found, rule)
    title = f"**{rule}** ({reads}): target test accuracy (%) of the picked trial, mean ± "
    parts.append(
      title + "sample std over seeds (seeds)\n\n" + domainbed_lib.table(chosen, environments)
    )
  if any("/val=" in r.path for r in found):
    title = "**leave-one-domain-out validation** (each training environment held out in turn; no "
    table = domainbed_lib.table(domainbed_lib.lodo_picks(found), environments)
    parts.append(title + "target label): target test accuracy (%)\n\n" + table)
  if any("," not in r.results["source"] for r in found):
    title = "**single sources** (`source_only` on one environment; the best is a choice on "
    table = domainbed_lib.single_source_table(found, environments)
    parts.append(title + "target test labels)\n\n" + table)
  text = "\n\n".join(parts)
  files.write_text(os.path.join(root, "summary.md"), text + "\n")
  return text


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
      points(config, _METHODS.value, _TRIALS.value, seeds, tests, _SINGLE.value, _LODO.value)
    )
  )
  for i, (name, point) in enumerate(runs):
    workdir = os.path.join(root, name)
    if runs_lib.finished(workdir):
      log.info("[%d/%d] %s: finished earlier, skipped", i + 1, len(runs), name)
      continue
    log.info("[%d/%d] %s", i + 1, len(runs), name)
    cli.train(point, workdir, exit_on_divergence=False)
  print(summarize(root, domains.names(config.data.environments)))
  print(f"wrote {os.path.join(root, 'summary.md')}", file=sys.stderr)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)

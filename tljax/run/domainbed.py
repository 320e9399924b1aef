"""DomainBed's protocol as runs: every test environment, method, trial and seed, and the tables.

`experiments.domainbed` is its command line. `points` names each run's
directory and config (the leave-one-out split, the trial's settings, the
optional single-source and held-out-domain runs); `summary` is one table per
selection rule (`tljax.analysis.domainbed`) of finished runs, which
`summarize` writes to summary.md and the docs generator reads.
"""

import os

from tljax import files
from tljax.analysis import domainbed as domainbed_lib
from tljax.analysis import runs as runs_lib
from tljax.data import domains
from tljax.run import sweep, trials


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
        point = _on(config, [source], environments[test])
        with point.unlocked():
          point.method.name, point.seed = "source_only", seed
        yield f"test={test}/single={sweep.directory_name(source)}/seed={seed}", point
    for method in methods:
      for trial in range(trial_count):
        for seed in seeds:
          point = config.copy_and_resolve_references()
          with point.unlocked():
            domains.leave_one_out(point.data, environments, test)
            point.method.name, point.seed = method, seed
            for field, value in trials.overrides(method, trial, config.optim.lr).items():
              sweep.set_field(point, field, value)
          name = f"test={test}/method={method}/trial={trial}/seed={seed}"
          yield name, point
          for held in [i for i in range(len(environments)) if i != test] if lodo else []:
            rest = [e for i, e in enumerate(environments) if i not in (test, held)]
            out = _on(point, rest, environments[held])
            yield f"test={test}/method={method}/trial={trial}/val={held}/seed={seed}", out


def _on(config, sources: list[str], target: str):
  """A copy of a leave-one-out `config` on other `sources` and `target`, its batch and held-out
  source examples scaled to those sources' equal shares."""
  out = config.copy_and_resolve_references()
  before = len(domains.names(config.data.source))
  with out.unlocked():
    out.data.source, out.data.target = ",".join(sources), target
    out.data.batch_size = config.data.batch_size // before * len(sources)
    out.data.source_val_size = config.data.source_val_size // before * len(sources)
  return out


def summarize(root: str, environments: list[str]) -> str:
  """summary.md: DomainBed's table under each selection rule, the oracle's apart."""
  text = summary(runs_lib.find([root]), environments)
  files.write_text(os.path.join(root, "summary.md"), text + "\n")
  return text


def summary(found: list, environments: list[str]) -> str:
  """DomainBed's table under each selection rule of the finished runs `found` (markdown)."""
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
  return "\n\n".join(parts)

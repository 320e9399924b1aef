"""Tabulates results.json files: mean ± std over seeds per setting, and label-free picks.

    python -m experiments.summarize runs/digits_to_digits_m [runs/paper ...] \\
        [--by method.name,method.dann.trade_off]

Searches each given directory recursively for results.json and prints one
markdown row per (directory, source, target, setting), where the setting is
the config fields named by --by (default: the method), with every seed's
target accuracy. Runs under different directories are never pooled, so keep
one directory per recipe. Where runs carry validator scores it adds the
settings each label-free validator picks per (source, target, seed)
(`tljax.analysis.tables`).

    python -m experiments.summarize --docs [--check]

regenerates every table in README.md and docs/*.md from the committed files
under docs/results/ (`--check`: fails, naming the block, if one differs).
"""

import argparse
import sys

from tljax.analysis import runs as runs_lib
from tljax.analysis import tables


def main(argv: list[str]) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("roots", nargs="*", default=["runs"])
  parser.add_argument("--by", default="method.name", help="comma-separated config fields")
  parser.add_argument("--docs", action="store_true", help="regenerate README/docs tables")
  parser.add_argument("--check", action="store_true", help="with --docs: only compare")
  args = parser.parse_args(argv[1:])
  if args.docs:
    from tools import docs_tables  # pylint: disable=g-import-not-at-top

    sys.exit(docs_tables.main(check=args.check))
  found = runs_lib.find(args.roots)
  if not found:
    sys.exit(f"error: no finished results.json under {args.roots}")
  group_by = args.by.split(",")
  print(tables.summary_table(found, group_by))
  if any(r.results.get("validators") for r in found):
    print()
    print(tables.validator_table(found, group_by))


if __name__ == "__main__":
  main(sys.argv)

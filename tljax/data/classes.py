"""One label set for both domains, by class name.

Source and target datasets number their classes independently (CIFAR-10's
"automobile" is 1, STL-10's "car" is 2). `align` matches them by name after
`config.data.rename_classes` ("automobile:car,..."), and with
`config.data.classes="common"` keeps only the classes both domains have
(a partial-set run), numbered in the source's order. Otherwise a class that
only one domain has is an error naming it. `config.data.merge_classes`
("even=0,2,4,6,8;odd=1,3,5,7,9") then merges classes of both domains into
coarser ones: a coarser task on the same images (e.g. for co_tuning).
"""

import numpy as np

from tljax.errors import ConfigError

MODES = ("same", "common")


def parse_renames(spec: str) -> dict[str, str]:
  """'a:b,c:d' -> {'a': 'b', 'c': 'd'}."""
  renames = {}
  for part in filter(None, (p.strip() for p in spec.split(","))):
    old, sep, new = part.partition(":")
    if not sep or not old or not new:
      raise ConfigError(
        f"config.data.rename_classes: {part!r} is not OLD:NEW (e.g. 'automobile:car')"
      )
    renames[old] = new
  return renames


def parse_merges(spec: str, known: list[str]) -> dict[str, str]:
  """'even=0,2;odd=1,3' -> {'0': 'even', '2': 'even', '1': 'odd', '3': 'odd'}, checked."""
  merges = {}
  for part in filter(None, (p.strip() for p in spec.split(";"))):
    group, sep, members = part.partition("=")
    names = [m.strip() for m in members.split(",") if m.strip()]
    if not sep or not group.strip() or not names:
      raise ConfigError(
        f"config.data.merge_classes: {part!r} is not GROUP=CLASS,CLASS,... "
        "(e.g. 'even=0,2,4,6,8;odd=1,3,5,7,9')"
      )
    for name in names:
      if name not in known:
        raise ConfigError(
          f"config.data.merge_classes: class {name!r} is in neither domain; "
          f"the classes are {sorted(set(known))[:12]}"
        )
      if name in merges:
        raise ConfigError(f"config.data.merge_classes puts class {name!r} in two groups")
      merges[name] = group.strip()
  return merges


def align(
  source: list[str],
  target: list[str],
  *,
  renames: str = "",
  mode: str = "same",
  merges: str = "",
) -> tuple[np.ndarray, np.ndarray, list[str]]:
  """(source id -> run id, target id -> run id, the run's class names); -1 drops a class."""
  if mode not in MODES:
    raise ConfigError(f"config.data.classes={mode!r} must be one of {list(MODES)}")
  table = parse_renames(renames)
  source = [table.get(c, c) for c in source]
  target = [table.get(c, c) for c in target]
  for name, names in (("source", source), ("target", target)):
    if len(set(names)) < len(names):
      raise ConfigError(f"config.data.rename_classes gives two {name} classes one name: {names}")
  groups = parse_merges(merges, source + target)
  source = [groups.get(c, c) for c in source]
  target = [groups.get(c, c) for c in target]
  only_source = [c for c in source if c not in target]
  only_target = [c for c in target if c not in source]
  if (only_source or only_target) and mode == "same":
    raise ConfigError(
      f"the domains' classes differ: only the source has {only_source[:8]}, only the target "
      f"{only_target[:8]}; rename with --config.data.rename_classes=OLD:NEW,... or train on "
      "the classes both have with --config.data.classes=common"
    )
  names = [c for c in dict.fromkeys(source) if c in target]  # Merged classes once.
  if not names:
    raise ConfigError("the source and target domains share no class name")
  ids = {c: i for i, c in enumerate(names)}
  return (
    np.array([ids.get(c, -1) for c in source], np.int64),
    np.array([ids.get(c, -1) for c in target], np.int64),
    names,
  )


def relabel(arrays: dict, mapping: np.ndarray) -> dict:
  """`arrays` with labels mapped by `mapping`, dropping examples mapped to -1."""
  if np.array_equal(mapping, np.arange(len(mapping))):
    return arrays
  new = mapping[arrays["label"]]
  keep = np.flatnonzero(new >= 0)
  out = {k: v[keep] for k, v in arrays.items()}
  out["label"] = new[keep]
  return out

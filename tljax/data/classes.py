"""One label set for both domains, by class name.

Source and target datasets number their classes independently (CIFAR-10's
"automobile" is 1, STL-10's "car" is 2). `align` matches them by name after
`config.data.rename_classes` ("automobile:car,..."), and with
`config.data.classes="common"` keeps only the classes both domains have
(a partial-set run), numbered in the source's order. Otherwise a class that
only one domain has is an error naming it. `config.data.merge_classes`
("even=0,2,4,6,8;odd=1,3,5,7,9") then merges classes of both domains into
coarser ones: a coarser task on the same images (e.g. for co_tuning).

Label sets that differ on purpose (`config.data.source_classes`,
`target_classes`: class names or id ranges such as "0-5"): the source keeps
its selected classes, numbered in its order (K of them); the target keeps
its selected classes, and those the source lacks become one class, UNKNOWN,
numbered K. Partial-set (target inside source), open-set (source inside
target) and universal (both have private classes) adaptation are these two
fields.
"""

import re

import numpy as np

from tljax.errors import ConfigError

MODES = ("same", "common")
UNKNOWN = "unknown"  # The name of the target classes the source does not have.


def select(spec: str, names: list[str], field: str) -> list[str]:
  """The class names `spec` keeps ("": all), in `names`' order.

  `spec` is comma-separated: class names, ids, or id ranges "a-b" (both
  ends included), ids counting in `names`' order.
  """
  if not spec.strip():
    return list(names)
  kept = set()
  for item in filter(None, (p.strip() for p in spec.split(","))):
    if item in names:
      kept.add(item)
      continue
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", item)
    if not match:
      raise ConfigError(
        f"config.data.{field}: {item!r} is neither a class nor an id range; the classes are "
        f"{names[:12]}{' ...' if len(names) > 12 else ''}"
      )
    low, high = int(match.group(1)), int(match.group(2) or match.group(1))
    if low > high or high >= len(names):
      raise ConfigError(
        f"config.data.{field}: ids {item!r} are not in 0-{len(names) - 1} (the domain's "
        f"{len(names)} classes)"
      )
    kept.update(names[low : high + 1])
  return [n for n in names if n in kept]


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
  source_classes: str = "",
  target_classes: str = "",
) -> tuple[np.ndarray, np.ndarray, list[str]]:
  """(source id -> run id, target id -> run id, the run's class names); -1 drops a class.

  With `source_classes` or `target_classes` set, the names end with UNKNOWN
  when the target keeps a class the source does not (its run id: the last).
  """
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
  if source_classes.strip() or target_classes.strip():
    return _label_sets(source, target, source_classes, target_classes)
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


def _label_sets(source, target, source_spec: str, target_spec: str):
  """`align` for label sets that differ on purpose (see the module docstring)."""
  unique = lambda names: list(dict.fromkeys(names))  # noqa: E731  Merged classes once.
  kept_source = select(source_spec, unique(source), "source_classes")
  kept_target = select(target_spec, unique(target), "target_classes")
  shared = [c for c in kept_target if c in kept_source]
  if not shared:
    raise ConfigError(
      f"config.data.source_classes={source_spec!r} and target_classes={target_spec!r} share no "
      f"class (source keeps {kept_source[:8]}, target {kept_target[:8]}): the target must keep "
      "at least one source class"
    )
  names = list(kept_source)
  if any(c not in kept_source for c in kept_target):
    names.append(UNKNOWN)
  ids = {c: i for i, c in enumerate(kept_source)}
  unknown = len(kept_source)
  to_target = [ids.get(c, unknown) if c in kept_target else -1 for c in target]
  return (
    np.array([ids.get(c, -1) for c in source], np.int64),
    np.array(to_target, np.int64),
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

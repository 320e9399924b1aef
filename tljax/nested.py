"""Nested dicts (checkpoint trees, stored configs) as flat {path: leaf} dicts."""


def flatten(tree, prefix: str = "", sep: str = "/") -> dict:
  """{"prefix/a/b": leaf} of a nested dict, keys joined by `sep` (a leaf alone: {prefix: leaf})."""
  if not isinstance(tree, dict):
    return {prefix: tree}
  out = {}
  for key, value in tree.items():
    out.update(flatten(value, f"{prefix}{sep}{key}" if prefix else str(key), sep))
  return out

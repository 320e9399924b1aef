"""Several source domains in one run: `data.source="mnist,mnist_m/offline,digits"`.

Multi-source adaptation (the target read unlabelled) and domain
generalisation (a method that never reads the target) both train on the
sources pooled. Each source example carries its domain's number, "domain"
(0, 1, ... in the order the sources are listed), in every split and every
batch, so a method reads `out.batch[SOURCE]["domain"]`; the source stream
then draws an equal share of each batch from every domain
(`streams.DomainStream`). A single-source run's arrays have no "domain":
methods that group by domain treat all its examples as domain 0.
"""

import numpy as np

from tljax.errors import ConfigError


def names(value: str) -> list[str]:
  """The datasets a `data.source` (or `data.target`) field lists, in order."""
  return [part.strip() for part in str(value).split(",")]


def check(field: str, value: str) -> list[str]:
  """`names(value)`; ConfigError for an empty name or a domain listed twice."""
  listed = names(value)
  if any(not n for n in listed):
    raise ConfigError(
      f"config.data.{field}={value!r} has an empty name; list datasets as 'a,b,c' (no empty "
      "entries)"
    )
  twice = sorted({n for n in listed if listed.count(n) > 1})
  if twice:
    raise ConfigError(f"config.data.{field}={value!r} lists {twice} twice; list each domain once")
  return listed


def check_disjoint(source: str, target: str) -> None:
  """ConfigError when the target is also one of the sources (it would train on its test split's
  domain: neither adaptation nor generalisation)."""
  both = sorted(set(check("source", source)) & set(check("target", target)))
  if both and len(names(source)) > 1:
    raise ConfigError(
      f"config.data.target={target!r} is also in config.data.source={source!r}: a target "
      "domain must not be a source; remove it from the sources"
    )


def leave_one_out(data, environments: list[str], test: int) -> None:
  """DomainBed's split of `config.data`: environment `test` the target, the others the sources."""
  if not 0 <= test < len(environments):
    raise ConfigError(
      f"test environment {test} must be one of 0..{len(environments) - 1} ({environments})"
    )
  data.target = environments[test]
  data.source = ",".join(e for i, e in enumerate(environments) if i != test)


def pooled(parts: list[dict]) -> dict:
  """The arrays of each domain's split, concatenated, with "domain" (int32) numbering them."""
  keys = parts[0].keys()
  out = {k: np.concatenate([p[k] for p in parts]) for k in keys}
  out["domain"] = np.concatenate(
    [np.full(len(p["label"]), d, np.int32) for d, p in enumerate(parts)]
  )
  return out


def count(arrays: dict | None) -> int:
  """How many domains a split's arrays hold (1 without a "domain" array)."""
  if not arrays or "domain" not in arrays or not len(arrays["domain"]):
    return 1
  return int(arrays["domain"].max()) + 1


def check_batch(batch_size: int, domain_count: int, processes: int = 1) -> None:
  """ConfigError unless each process's source batch splits evenly over the domains."""
  per_process = batch_size // processes
  if domain_count > 1 and per_process % domain_count:
    raise ConfigError(
      f"config.data.batch_size={batch_size} ({per_process} per process) does not divide into "
      f"the {domain_count} source domains; give a multiple of {domain_count * processes} so "
      "every domain has the same share of each batch"
    )

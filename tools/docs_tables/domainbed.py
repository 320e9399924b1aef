"""Domain generalisation under DomainBed's protocol: tljax's tables and DomainBed's own."""

from tools.docs_tables.common import find_runs, load_json, markdown_table


def published_domainbed(dataset: str) -> str:
  """DomainBed's published MNIST table for `dataset` (both selection rules, oracle apart)."""
  data = load_json("references", "published_domainbed_mnist.json")
  envs = data["environments"][dataset]
  rows = []
  for table in data["tables"]:
    if table["dataset"] != dataset:
      continue
    for row in table["rows"]:
      method = f"`{data['tljax_method'][row['algorithm']]}`"
      rows.append([table["selection"], f"{row['algorithm']} ({method})", *row["cells"]])
  return markdown_table(["selection", "algorithm (tljax)", *envs, "average"], rows)


def domainbed_runs(dataset: str) -> str:
  """tljax's DomainBed tables on `dataset` ("colored", "rotated", "digits_five"), one per
  selection rule, from the committed runs under docs/results/domainbed/<dataset>/."""
  from configs import digits_five, domainbed_mnist  # pylint: disable=g-import-not-at-top
  from tljax.run import domainbed as protocol  # pylint: disable=g-import-not-at-top

  environments = {"digits_five": digits_five.ENVIRONMENTS, **domainbed_mnist.ENVIRONMENTS}
  return protocol.summary(find_runs("domainbed", dataset), environments[dataset])

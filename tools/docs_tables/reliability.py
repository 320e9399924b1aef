"""Reliability: the bad-input and interruption cases and what happened."""

from tools.docs_tables.common import load_json, markdown_table


def reliability_cases() -> str:
  """tools.adversarial's cases: what was tried, what happened, whether it was expected."""
  data = load_json("reliability", "cases.json")
  cases = data["cases"]
  rows = [
    [c["group"], c["case"], c["outcome"].replace("|", "/").replace("\n", " "),
     "yes" if c["as_expected"] else "**no**"]
    for c in cases
  ]  # fmt: skip
  ok = sum(c["as_expected"] for c in cases)
  return (
    f"{ok} of {len(cases)} cases as expected (`python -m tools.adversarial --out "
    f"docs/results/reliability/cases.json`, Python {data['python']}).\n\n"
    + markdown_table(["group", "case", "what happened", "as expected"], rows)
  )

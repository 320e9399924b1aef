"""README and docs/ stay true: short front door, pages reachable, no dead link, code runs."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
  """GitHub's anchor for a markdown heading."""
  text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
  return text.replace(" ", "-")


def _relative_links(path: str) -> list[tuple[str, str]]:
  """(target file, anchor) of every relative link in a markdown file."""
  text = open(path).read()
  text = re.sub(r"```.*?```", "", text, flags=re.S)  # Code blocks hold no links.
  out = []
  for target in LINK.findall(text):
    if re.match(r"^[a-z]+:", target):
      continue  # http(s):, mailto: ...
    file, _, anchor = target.partition("#")
    full = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
    out.append((full, anchor))
  return out


def _pages() -> list[str]:
  docs = os.path.join(ROOT, "docs")
  return [os.path.join(ROOT, "README.md")] + sorted(
    os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md")
  )


def test_readme_is_a_front_door_of_at_most_300_lines():
  assert len(open(os.path.join(ROOT, "README.md")).read().splitlines()) <= 300


def test_no_dead_relative_link_or_anchor():
  dead = []
  for page in _pages():
    for target, anchor in _relative_links(page):
      if not os.path.exists(target):
        dead.append(f"{os.path.relpath(page, ROOT)} -> {os.path.relpath(target, ROOT)}")
      elif anchor and target.endswith(".md"):
        headings = re.findall(r"^#+ (.+)$", open(target).read(), flags=re.M)
        if anchor not in {_slug(h) for h in headings}:
          dead.append(f"{os.path.relpath(page, ROOT)} -> {os.path.relpath(target, ROOT)}#{anchor}")
  assert not dead, dead


def test_every_docs_page_is_reachable_from_the_readme():
  seen, todo = set(), [os.path.join(ROOT, "README.md")]
  while todo:
    page = todo.pop()
    if page in seen:
      continue
    seen.add(page)
    todo += [t for t, _ in _relative_links(page) if t.endswith(".md") and os.path.exists(t)]
  unreachable = [os.path.relpath(p, ROOT) for p in _pages() if p not in seen]
  assert not unreachable, unreachable


def test_train_step_snippet_in_the_methods_page_runs():
  text = open(os.path.join(ROOT, "docs", "methods.md")).read()
  section = text.split("## Using the train step in your own code", 1)[1]
  code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
  namespace = {}
  exec(compile(code, "docs/methods.md", "exec"), namespace)  # noqa: S102
  assert int(namespace["state"].step) == 1
  assert {"loss", "domain_loss", "grl_coeff"} <= set(namespace["metrics"])


def _prose(text: str) -> str:
  """A page without its generated blocks, code blocks, inline code and link targets."""
  text = re.sub(r"<!-- generated: [\w-]+ -->\n.*?<!-- end generated -->", "", text, flags=re.S)
  text = re.sub(r"```.*?```", "", text, flags=re.S)
  text = re.sub(r"`[^`\n]*`", "", text)
  return re.sub(r"\]\([^)\s]*\)", "]", text)


# A measured-looking number: a decimal, a percentage, a ratio like 1.5× (not a size like 28×28).
# Settings and constants belong in inline code (`lr=0.01`), where the guard does not look.
MEASURED = re.compile(r"\d+(\.\d+)?×(?!\s?\d)|\d+\.\d+|\d+\s?%")


def test_prose_outside_generated_blocks_carries_no_measured_number():
  found = []
  for page in _pages():
    for number, line in enumerate(_prose(open(page).read()).splitlines(), 1):
      if MEASURED.search(line):
        found.append(f"{os.path.relpath(page, ROOT)}: {line.strip()[:120]}")
  assert not found, "\n".join(found)


def test_the_guard_catches_a_typed_number():
  page = "Accuracy 0.553, 87% of the gap, 1.4× faster.\n`0.5` in code, 28×28 images.\n"
  typed, fine = _prose(page).splitlines()
  assert [m.group(0) for m in MEASURED.finditer(typed)] == ["0.553", "87%", "1.4×"]
  assert not MEASURED.search(fine)
  block = "<!-- generated: x -->\n| 0.553 |\n<!-- end generated -->\n"
  assert not MEASURED.search(_prose(block))


def test_generated_blocks_match_the_committed_results():
  from tools import docs_tables  # pylint: disable=g-import-not-at-top

  stale = [
    page
    for page in docs_tables.PAGES
    if docs_tables.render(open(os.path.join(ROOT, page)).read())
    != open(os.path.join(ROOT, page)).read()
  ]
  assert not stale, f"{stale}: run python -m experiments.summarize --docs"


def test_source_free_selection_picks_among_rates_and_step_budgets():
  from tools.docs_tables import source_free  # pylint: disable=g-import-not-at-top

  run = lambda entropy, accuracy: {  # noqa: E731
    "validators": {"entropy": entropy},
    "target_test_accuracy": accuracy,
  }
  adapted = {  # (method, lr, steps): {seed: run}
    ("shot_im", 0.001, 6000): {0: run(0.3, 0.8), 1: run(0.2, 0.7)},
    ("shot_im", 0.001, 28000): {0: run(0.1, 0.9), 1: run(0.4, 0.6)},
    ("shot_im", 0.0001, 6000): {0: run(0.5, 0.5), 1: run(0.6, 0.4), 2: run(0.1, 0.3)},
    ("shot", 0.001, 6000): {0: run(0.9, 0.2)},
  }
  rule = source_free.SELECTION_RULES["entropy (label-free)"]
  picks = source_free._picks(adapted, "shot_im", rule)  # Seed 2 ran one setting only: left out.
  assert [(setting, r["target_test_accuracy"]) for setting, r in picks] == [
    ("0.001 × 28,000 steps", 0.9),
    ("0.001 × 6,000 steps", 0.7),
  ]
  assert source_free._picks(adapted, "shot", rule) == [("0.001", adapted["shot", 0.001, 6000][0])]

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

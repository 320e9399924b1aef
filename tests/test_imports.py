"""The layout holds: layers import downward only, no cycles (lazy ones count), no TF in the core."""

import ast
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What each layer may import from tljax (a prefix match); run/ may import anything in tljax.
ALLOWED = {
  "tljax.core": ("tljax.core", "tljax.data.streams", "tljax.data.augment", "tljax.errors"),
  "tljax.losses": ("tljax.core", "tljax.losses", "tljax.models", "tljax.errors"),
  "tljax.methods": (
    "tljax.core", "tljax.losses", "tljax.models", "tljax.methods", "tljax.errors",
    "tljax.checkpoint", "tljax.files", "tljax.upgrade", "tljax.data.domains",
  ),
  "tljax.models": ("tljax.models", "tljax.errors"),
  "tljax.data": ("tljax.data", "tljax.errors", "tljax.files", "tljax.host"),
  "tljax.analysis": (
    "tljax.analysis", "tljax.methods", "tljax.errors", "tljax.files", "tljax.metrics",
    "tljax.upgrade",
  ),
  "tljax.checkpoint": ("tljax.core.state", "tljax.errors", "tljax.host", "tljax.nested"),
  "tljax.metrics": ("tljax.files",),
}  # fmt: skip
NO_TENSORFLOW = [
  "tljax.core", "tljax.losses", "tljax.models", "tljax.checkpoint", "tljax.metrics",
  "tljax.data.streams", "tljax.data.augment", "tljax.data.domains",
  *[f"tljax.methods.{m}" for m in ("dann", "mcd", "irm")],
]  # fmt: skip


def _modules() -> dict[str, str]:
  """{dotted module name: path} of every module in tljax/."""
  out = {}
  for directory, _, names in os.walk(os.path.join(ROOT, "tljax")):
    for name in names:
      if name.endswith(".py"):
        path = os.path.join(directory, name)
        dotted = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
        out[dotted.removesuffix(".__init__")] = path
  return out


def _imports(path: str, module: str, known: set[str]) -> set[str]:
  """The tljax modules `path` imports, at any depth of the file (function-level too)."""
  package = module if path.endswith("__init__.py") else module.rsplit(".", 1)[0]
  found = set()
  for node in ast.walk(ast.parse(open(path).read())):
    if isinstance(node, ast.Import):
      found |= {a.name for a in node.names if a.name.startswith("tljax")}
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base])
      if not base.startswith("tljax"):
        continue
      for alias in node.names:  # `from pkg import mod` names a module; else the package.
        child = f"{base}.{alias.name}"
        found.add(child if child in known else base)
  return found


def test_layers_import_downward_only():
  modules = _modules()
  offenders = []
  for module, path in modules.items():
    rule = next((k for k in sorted(ALLOWED, key=len, reverse=True) if module.startswith(k)), None)
    if rule is None:
      continue  # tljax.run and the shared top-level modules (files, errors, xla_cpu).
    for target in _imports(path, module, set(modules)):
      if not target.startswith(ALLOWED[rule]):
        offenders.append(f"{module} imports {target}")
  assert not offenders, offenders


def test_no_import_cycles_even_inside_functions():
  modules = _modules()
  graph = {m: _imports(p, m, set(modules)) & set(modules) - {m} for m, p in modules.items()}
  state, cycles = {}, []

  def visit(node, trail):
    state[node] = "open"
    for target in sorted(graph[node]):
      if state.get(target) == "open":
        cycles.append(" -> ".join(trail[trail.index(target) :] + [target]))
      elif target not in state:
        visit(target, trail + [target])
    state[node] = "done"

  for module in sorted(graph):
    if module not in state:
      visit(module, [module])
  assert not cycles, cycles


def test_methods_package_holds_only_methods():
  from tljax import methods  # pylint: disable=g-import-not-at-top

  folder = os.path.join(ROOT, "tljax", "methods")
  files = sorted(f[:-3] for f in os.listdir(folder) if f.endswith(".py"))
  files = [f for f in files if not f.startswith("_")]
  assert files == methods.names()


def test_core_modules_do_not_import_tensorflow():
  code = (
    f"import sys\nfor m in {NO_TENSORFLOW!r}: __import__(m)\n"
    "tf = ('tensorflow', 'tensorflow_datasets')\n"
    "bad = sorted(m for m in sys.modules if m.split('.')[0] in tf)\n"
    "assert not bad, bad"
  )
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
  assert result.returncode == 0, result.stderr[-2000:]

"""The import layering in ``lepton._layers.LAYERS`` holds: no module imports a higher layer.

Every module under ``lepton/`` (and ``leptonic/``) is parsed with ``ast``; every import
counts, including those inside functions, ``importlib.import_module``/``__import__`` calls
with a literal name, and string literals that name a lepton module exactly (registries of
lazily imported modules). ``lepton/primitives`` must also be free of import cycles, and
no module uses another package's ``_private`` names or modules (issue 13).
"""
from __future__ import annotations

import ast
import pathlib

import pytest

from lepton._layers import LAYER_NAMES, LAYERS, layer_of

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("lepton", "leptonic")

# Modules whose strings name modules without importing them.
NAMES_ONLY = {"lepton._layers"}


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, pathlib.Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


MODULES = _modules()


def _from_target(node: ast.ImportFrom, package: str) -> str | None:
    """The absolute module a ``from ... import`` reads from (relative levels resolved)."""
    if not node.level:
        return node.module
    base = package.split(".")
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _resolve(name: str) -> str:
    """The module a dotted name refers to (``lepton.numpy.asarray`` -> ``lepton.numpy``)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _is_lepton(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def _call_name(func) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def imports_of(module: str) -> list[tuple[str, int]]:
    """(imported lepton module, line) for every import in ``module``, at any depth."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update((_resolve(a.name), node.lineno) for a in node.names if _is_lepton(a.name))
        elif isinstance(node, ast.ImportFrom):
            target = _from_target(node, package)
            if not _is_lepton(target):
                continue
            for a in node.names:  # ``from pkg import submodule`` imports the submodule
                sub = f"{target}.{a.name}"
                out.add((sub if sub in MODULES else _resolve(target), node.lineno))
        elif isinstance(node, ast.Call) and _call_name(node.func) in ("import_module",
                                                                       "__import__"):
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                    and _is_lepton(arg.value):
                out.add((_resolve(arg.value), node.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                node.value in MODULES and "." in node.value and module not in NAMES_ONLY:
            out.add((node.value, node.lineno))  # e.g. a backend registry's module names
    return sorted((t, line) for t, line in out if t != module)


def _edges():
    for module in MODULES:
        for target, line in imports_of(module):
            yield module, target, line


def _where(module, line):
    return f"{MODULES[module].relative_to(ROOT)}:{line}"


def test_every_module_is_placed():
    unplaced = sorted(m for m in MODULES if layer_of(m) is None)
    assert not unplaced, f"modules missing from lepton._layers.LAYERS: {unplaced}"


def test_every_layer_entry_exists():
    missing = sorted(e for _, entries in LAYERS for e in entries if e not in MODULES)
    assert not missing, f"LAYERS names modules that do not exist: {missing}"


def test_no_upward_imports():
    bad = []
    for module, target, line in _edges():
        src, dst = layer_of(module), layer_of(target)
        if dst is not None and src is not None and dst > src:  # unplaced: its own test
            bad.append(f"{_where(module, line)}: {module} ({LAYER_NAMES[src]}) imports "
                       f"{target} ({LAYER_NAMES[dst]})")
    assert not bad, "upward imports (see lepton/_layers.py):\n" + "\n".join(sorted(bad))


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path (first node repeated at the end), or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = "open"
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == "open":
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = "done"
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_primitive_modules_form_a_dag():
    """The primitive families import each other in one direction only (the package's
    ``__init__``, which imports them all, is not part of the graph)."""
    pkg = "lepton.primitives"
    graph, lines = {}, {}
    for module, target, line in _edges():
        if module.startswith(pkg + ".") and target.startswith(pkg + "."):
            graph.setdefault(module, set()).add(target)
            lines.setdefault((module, target), line)
    cycle = _cycle(graph)
    assert cycle is None, "import cycle in lepton/primitives: " + " -> ".join(
        f"{a} ({_where(a, lines[a, b])})" for a, b in zip(cycle, cycle[1:]))


@pytest.mark.parametrize("graph, has_cycle", [
    ({"a": {"b"}, "b": {"c"}}, False),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
    ({"a": {"a"}}, True),
])
def test_cycle_finder(graph, has_cycle):
    assert (_cycle(graph) is not None) == has_cycle


def test_detects_function_level_and_string_imports(tmp_path, monkeypatch):
    """The scanner sees imports inside functions and importlib literals (the test can fail)."""
    src = ("def f():\n    from .transforms import vmap\n"
           "def g():\n    import importlib\n    return importlib.import_module('lepton.nn')\n")
    fake = ROOT / "lepton" / "core.py"
    monkeypatch.setitem(MODULES, "lepton.core", tmp_path / "core.py")
    (tmp_path / "core.py").write_text(src)
    got = imports_of("lepton.core")
    monkeypatch.setitem(MODULES, "lepton.core", fake)
    assert ("lepton.transforms.vmap", 2) in got and ("lepton.nn", 5) in got


def test_ops_borrowed_by_lower_primitive_families_are_all_installed():
    """``primitives.base.ops`` (the one place a lower family reaches a higher one's op) is
    complete once lepton is imported, and each op is the defining family's own function."""
    from lepton.primitives import base, elementwise, reductions, slicing, structural
    owners = {"zeros": structural, "broadcast_in_dim": structural, "moveaxis": structural,
              "add": elementwise, "reduce_sum": reductions, "slice_in_dim": slicing}
    assert set(base._Ops.__slots__) == set(owners)
    for name, module in owners.items():
        assert getattr(base.ops, name) is getattr(module, name), name


def _package(module: str) -> str:
    """The package a module belongs to: ``lepton.X`` (a directory under ``lepton/`` or a
    top-level module), or ``leptonic``."""
    return ".".join(module.split(".")[:2]) if module.startswith("lepton.") else \
        module.split(".")[0]


def _private_owner(dotted: str) -> str | None:
    """The module that owns the first ``_private`` part of ``dotted`` (dunders are public),
    or None when every part is public."""
    parts = dotted.split(".")
    for i, p in enumerate(parts):
        if p.startswith("_") and not (p.startswith("__") and p.endswith("__")):
            return ".".join(parts[:i])
    return None


def private_reaches_of(module: str) -> list[tuple[str, int]]:
    """(dotted private name, line) for each ``_private`` name or module that ``module``
    imports (or reads as an attribute of an imported lepton module) from another package.

    A private part of the root package (``lepton._quiet``) is lepton-wide; any other belongs
    to its package, and only modules of that package may use it."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    bound: dict[str, str] = {}  # local name -> lepton module it is bound to
    used: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if _is_lepton(a.name):
                    used.append((a.name, node.lineno))
                    if a.asname:
                        bound[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom):
            target = _from_target(node, package)
            if not _is_lepton(target):
                continue
            for a in node.names:
                full = f"{target}.{a.name}"
                used.append((full, node.lineno))
                if full in MODULES:
                    bound[a.asname or a.name] = full
    for node in ast.walk(tree):  # ``mod._name`` where ``mod`` is an imported lepton module
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in bound:
            used.append((f"{bound[node.value.id]}.{node.attr}", node.lineno))
    bad = set()
    for dotted, line in used:
        owner = _private_owner(dotted)
        if owner is None or owner == "lepton" or owner in PACKAGES:
            continue
        if _package(owner) != _package(module):
            bad.add((dotted, line))
    return sorted(bad, key=lambda t: (t[1], t[0]))


def test_no_private_names_from_other_packages():
    """No module uses another package's ``_private`` names or modules: what is shared
    across packages is public in its owner (issue 13)."""
    bad = [f"{_where(m, line)}: {m} uses {name}" for m in MODULES
           for name, line in private_reaches_of(m)]
    assert not bad, "private names used across packages (make them public in their " \
        "owner, or move them):\n" + "\n".join(bad)


def test_private_reach_scanner_can_fail(tmp_path, monkeypatch):
    src = ("from __future__ import annotations\n"
           "from ..core import _ctx, Array\n"
           "from ..numpy import _util\n"
           "from . import _own\n"
           "from .. import _quiet, linalg as la\n"
           "def f():\n    import lepton.random as r\n    return r._erf, la.__doc__, _own._x\n")
    fake = MODULES["lepton.nn"]
    monkeypatch.setitem(MODULES, "lepton.nn", tmp_path / "__init__.py")
    (tmp_path / "__init__.py").write_text(src)
    got = private_reaches_of("lepton.nn")
    monkeypatch.setitem(MODULES, "lepton.nn", fake)
    assert got == [("lepton.core._ctx", 2), ("lepton.numpy._util", 3), ("lepton.random._erf", 8)]

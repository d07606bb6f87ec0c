"""nablab's modules import without cycles: each imports alone in a fresh interpreter, and the graph
of their imports — read from the source with ``ast``, imports inside functions included, so a
deferred import cannot hide a cycle — has no cycle.

An edge A → B means that importing A (or calling a function of A) imports B: ``import B``,
``from B import name``, ``from B import submodule`` (an edge to the submodule; to B too when a
name is not a submodule), and the packages above B that are not already above A (Python runs
``nablab/data/__init__.py`` before ``nablab.data.batch_transforms``). A cycle is a strongly
connected component of more than one module.

:data:`KNOWN` lists the imports that close the cycles there are today, each with what to change;
the test fails on any cycle left without them, and on a listed import that no longer lies on a
cycle (so that the list is kept true).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: (importer, imported) → why the import closes a cycle and what would open it
KNOWN: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, tuple[Path, bool]]:
    """name → (file, is a package) for every module of nablab."""
    found = {}
    for path in sorted((SRC / "nablab").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


MODULES = _modules()


def _with_parents(target: str, importer: str) -> set[str]:
    """``target`` and the packages above it that are not above ``importer`` (those are being imported
    already: Python runs a package's ``__init__`` before its modules; an explicit import of one still counts)."""
    parts = target.split(".")
    above_importer = {".".join(importer.split(".")[:i]) for i in range(1, importer.count(".") + 1)}
    parents = {".".join(parts[:i]) for i in range(1, len(parts))} & set(MODULES)
    return {target} | (parents - above_importer)


def imports_of(name: str) -> set[str]:
    """The nablab modules that importing ``name`` or calling its functions imports."""
    path, package = MODULES[name]
    here = name if package else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names if alias.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module not in MODULES:
                continue
            submodules = {f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in MODULES}
            targets.update(submodules)
            if len(submodules) < len(node.names):
                targets.add(module)
    edges = set()
    for target in targets:
        edges |= _with_parents(target, name)
    return edges - {name}


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(tuple(sorted(component)))
    return found


def test_the_walk_finds_a_cycle_and_its_implicit_parents():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [("a", "b", "c")]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert "nablab.data" in imports_of("nablab.lab.config")  # via ``from ..data import batch_transforms``
    assert "nablab" not in _with_parents("nablab.nn.modes", "nablab.lab.evaluate")
    assert _with_parents("nablab", "nablab.lab.config") == {"nablab"}  # ``from .. import manual_seed``


def test_no_import_cycles():
    graph = {name: imports_of(name) for name in MODULES}
    known = {(a, t) for a, b in KNOWN for t in _with_parents(b, a)}  # (with the packages the import runs)
    without_known = {name: {t for t in targets if (name, t) not in known} for name, targets in graph.items()}
    new = cycles(without_known)
    assert not new, "import cycles:\n" + "\n".join(
        "\n  ".join(f"{m} -> {sorted(without_known[m] & set(c))}" for m in c) for c in new)
    found = cycles(graph)
    gone = [(a, b) for a, b in KNOWN if not any(a in c and b in c and b in graph[a] for c in found)]
    assert not gone, f"these imports close no cycle any more: remove them from KNOWN: {gone}"


def _import_alone(name: str) -> tuple[str, int, str]:
    """``(name, exit status, last line of stderr)`` of ``python -c "import name"``."""
    done = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, timeout=300)
    lines = done.stderr.strip().splitlines()
    return name, done.returncode, lines[-1] if lines else ""


@pytest.mark.imports_alone
def test_every_module_imports_alone_in_a_fresh_interpreter():
    """A module that works only when another was imported first hides a cycle (or a missing import)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_import_alone, sorted(MODULES)))
    failed = [f"{name}: {error}" for name, code, error in results
              if code != 0 and not (error.startswith("ModuleNotFoundError") and "'nablab" not in error)]
    assert not failed, "\n".join(failed)

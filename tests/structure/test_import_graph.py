"""No import cycles among Disposisi's modules or packages.

A cycle works until someone imports the modules in another order (a fresh worker process, a
test run alone) and then fails half-initialised. The graph is read from the source (every
import statement, also inside functions; ``if TYPE_CHECKING:`` blocks do not run and are left
out), and the modules that used to be in a cycle are also imported first in a fresh interpreter.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("routing_model", "training", "service", "commands", "backlog", "learning")


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if "migrations" in path.relative_to(ROOT).parts:
                continue  # run by Alembic from a script directory, never imported as a module
            parts = path.relative_to(ROOT).with_suffix("").parts
            mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return mods


def _imports(tree: ast.AST, type_level: bool = False):
    """Import nodes that can run: everything except the bodies of ``if TYPE_CHECKING:`` (kept with ``type_level``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and not type_level:
            if getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
                node.body = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def import_graph(type_level: bool = False) -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(encoding="utf-8")), type_level):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parts = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for target in targets:
                while target not in mods and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target in mods and target != mod:
                    graph[mod].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_cycle_among_modules():
    graph = import_graph()
    assert "routing_model.persistence" in graph and "learning.retrain" in graph
    assert "routing_model.classifier" in graph["routing_model.model"]  # the checker sees imports inside functions
    assert cycles(graph) == []


def test_no_cycle_even_at_type_level():
    """Annotations need no ``if TYPE_CHECKING:`` import to dodge a cycle (the artifact module imports the model,
    never the other way round)."""
    graph = import_graph(type_level=True)
    assert "routing_model.model" in graph["routing_model.persistence"]
    assert "routing_model.persistence" not in graph["routing_model.model"]
    assert cycles(graph) == []


def test_no_cycle_among_packages():
    packages: dict[str, set[str]] = {}
    for mod, deps in import_graph().items():
        for dep in deps:
            a, b = mod.split(".")[0], dep.split(".")[0]
            if a != b:
                packages.setdefault(a, set()).add(b)
    assert cycles(packages) == []
    assert "commands" not in packages.get("learning", set())
    assert not packages.get("routing_model"), "the core package must not import the others"


@pytest.mark.parametrize("module", ["routing_model.persistence", "routing_model.model", "learning.prequential",
                                    "learning.feedback", "service.store", "commands.main"])
def test_imports_first_in_a_fresh_interpreter(module):
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr

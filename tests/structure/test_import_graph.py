"""No import cycles among Disposisi's modules or packages.

A cycle works until someone imports the modules in another order (a fresh worker process, a
test run alone) and then fails half-initialised. The graph is read from the source (every
import statement, also inside functions; ``if TYPE_CHECKING:`` blocks do not run and are left
out), and the modules that used to be in a cycle are also imported first in a fresh interpreter.
The graph is built by scripts/import_graph.py.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
# the one implementation of the graph: `python scripts/import_graph.py` prints it with cycles and sizes
from import_graph import KINDS, classified_imports, cycles, import_graph, main, modules


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_are_classified_by_when_they_run():
    tree = ast.parse(
        "import a\n"
        "if TYPE_CHECKING:\n    import b\nelse:\n    import c\n"
        "class K:\n    import d\n    def m(self):\n        import e\n"
        "def f():\n    if typing.TYPE_CHECKING:\n        import g\n    import h\n"
    )
    kinds = {node.names[0].name: kind for node, kind in classified_imports(tree)}
    assert kinds == {
        "a": "module",
        "b": "type_checking",
        "c": "module",
        "d": "module",
        "e": "function",
        "g": "type_checking",
        "h": "function",
    }


def test_the_script_prints_the_graph(capsys):
    assert main(["--packages", "routing_model", "training"]) == 0
    out = capsys.readouterr().out
    assert "training                 -> routing_model" in out and "Longest function:" in out


def test_no_cycle_among_modules():
    graph = import_graph()
    assert "routing_model.artifact.persistence" in graph and "training.learning.retrain" in graph
    assert (
        "routing_model.model.fit.classifier" in graph["routing_model.model.routing"]
    )  # the checker sees imports inside functions
    assert cycles(graph) == []


def test_no_cycle_even_at_type_level():
    """Annotations need no ``if TYPE_CHECKING:`` import to dodge a cycle (the artifact module imports the model,
    never the other way round)."""
    graph = import_graph(kinds=KINDS)
    assert "routing_model.model.routing" in graph["routing_model.artifact.persistence"]
    assert "routing_model.artifact.persistence" not in graph["routing_model.model.routing"]
    assert cycles(graph) == []


def test_no_cycle_among_packages():
    packages: dict[str, set[str]] = {}
    for mod, deps in import_graph().items():
        for dep in deps:
            a, b = mod.split(".")[0], dep.split(".")[0]
            if a != b:
                packages.setdefault(a, set()).add(b)
    assert cycles(packages) == []
    assert "service" not in packages.get("training", set()), "training must not need the service"
    assert not packages.get("routing_model"), "the core package must not import the others"


def test_no_cycle_among_sub_packages():
    """The folders are layers: text, places, registry, io below model/{predict, fit} below artifact; service and
    training on top. (A cycle through imports inside functions, ``service`` <-> ``service.desk``, remains.)"""
    folder = {mod: ".".join(path.parent.relative_to(ROOT).parts) for mod, path in modules().items()}
    packages: dict[str, set[str]] = {}
    for mod, deps in import_graph(kinds=("module",)).items():
        for dep in deps:
            a, b = folder[mod], folder[dep]
            if a != b:
                packages.setdefault(a, set()).add(b)
    assert cycles(packages) == []
    assert "routing_model.model.fit" not in packages.get("routing_model.model.predict", set())


def test_serving_code_never_reaches_the_fitting_code():
    """ "No scikit-learn when serving" is a directory boundary: nothing under routing_model.model.predict, text,
    places, registry or artifact imports routing_model.model.fit or scikit-learn, not even inside a function."""
    graph = import_graph(kinds=KINDS)
    serving = (
        "routing_model.model.predict",
        "routing_model.text",
        "routing_model.places",
        "routing_model.registry",
        "routing_model.artifact.served",
    )
    crossing = {
        (m, d)
        for m, deps in graph.items()
        if m.startswith(serving)
        for d in deps
        if d.startswith("routing_model.model.fit")
    }
    assert not crossing
    for path in (ROOT / "routing_model" / "model" / "predict").rglob("*.py"):
        for node, _kind in classified_imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            assert not any(n.split(".")[0] in {"sklearn", "skops", "pandas"} for n in names), path


@pytest.mark.parametrize(
    "module",
    [
        "routing_model.artifact.persistence",
        "routing_model.model.routing",
        "training.learning.prequential",
        "training.learning.feedback",
        "service.store",
        "service.cli.main",
    ],
)
def test_imports_first_in_a_fresh_interpreter(module):
    proc = subprocess.run(
        [sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr

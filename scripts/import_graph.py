"""Disposisi's import graph and size figures, read from the source (nothing is imported).

    python scripts/import_graph.py [--packages routing_model service ...] [--root DIR]

Prints the package-level import graph (top-level packages and sub-packages, with the number of
module-to-module edges), import cycles, the Python files and lines per package, and the longest functions.

Every import statement is an edge of one kind:
  module         runs when the module is imported (module level, also class bodies and try/if blocks)
  function       inside a function: runs when the function is first called
  type_checking  inside ``if TYPE_CHECKING:``: never runs
Cycles are reported for three graphs: ``module`` edges only (a cycle here can fail half-initialised at
import), ``module`` + ``function`` (every import that can run: what tests/structure/test_import_graph.py
forbids), and all three (``TYPE_CHECKING`` counted too). ``migrations`` folders are run by Alembic from a
script directory, never imported as modules: they count as files and lines but are not in the graph.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("routing_model", "training", "service")
KINDS = ("module", "function", "type_checking")
RUNTIME = ("module", "function")


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, dotted
    target: str  # imported module of the same tree, dotted
    kind: str  # one of KINDS
    line: int


def python_files(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, list[Path]]:
    """Every .py file under each package folder (migrations included), by package."""
    return {pkg: sorted((root / pkg).rglob("*.py")) for pkg in packages}


def modules(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every importable module of the packages."""
    mods = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            if "migrations" in path.relative_to(root).parts:
                continue  # run by Alembic from a script directory, never imported as a module
            parts = path.relative_to(root).with_suffix("").parts
            mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return mods


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING"


def classified_imports(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    """Every import node with its kind: ``type_checking`` inside the body of ``if TYPE_CHECKING:`` (its
    ``else:`` runs), ``function`` inside a function or lambda, ``module`` otherwise."""

    def visit(node: ast.AST, kind: str):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, kind
            return
        if _is_type_checking(node):
            for child in node.body:
                yield from visit(child, "type_checking")
            for child in node.orelse:
                yield from visit(child, kind)
            yield from visit(node.test, kind)
            return
        inner = kind
        if kind == "module" and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inner = "function"
        for child in ast.iter_child_nodes(node):
            yield from visit(child, inner)

    yield from visit(tree, "module")


def _targets(node: ast.Import | ast.ImportFrom, mod: str, is_pkg: bool, mods: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        targets = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            parts = mod.split(".") if is_pkg else mod.split(".")[:-1]
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join(parts + ([base] if base else []))
        targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
    out = []
    for target in targets:
        while target not in mods and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in mods and target != mod:
            out.append(target)
    return out


def import_edges(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> list[Edge]:
    """One edge per (import statement, imported module of the tree); imports of other libraries are left out."""
    mods = modules(root, packages)
    edges = []
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node, kind in classified_imports(ast.parse(path.read_text(encoding="utf-8"))):
            edges.extend(Edge(mod, target, kind, node.lineno) for target in _targets(node, mod, is_pkg, mods))
    return edges


def import_graph(root: Path = ROOT, packages: Iterable[str] = PACKAGES, kinds: Iterable[str] = RUNTIME):
    """Module -> the modules it imports, over edges of the given kinds (default: every import that can run)."""
    packages, kinds = tuple(packages), set(kinds)
    graph: dict[str, set[str]] = {m: set() for m in modules(root, packages)}
    for edge in import_edges(root, packages):
        if edge.kind in kinds:
            graph[edge.source].add(edge.target)
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


def package_of(module: str, mods: dict[str, Path], depth: int | None = None) -> str:
    """The package a module belongs to: its own name for a package's __init__, else its parent;
    cut to ``depth`` components (1 = top-level package)."""
    pkg = module if mods[module].name == "__init__.py" else module.rsplit(".", 1)[0]
    return ".".join(pkg.split(".")[:depth]) if depth else pkg


def package_graph(edges: Iterable[Edge], mods: dict[str, Path], kinds: Iterable[str], depth: int | None = None):
    """(importing package, imported package) -> number of distinct module-to-module edges of those kinds."""
    kinds = set(kinds)
    pairs = {(e.source, e.target) for e in edges if e.kind in kinds}
    counts: Counter[tuple[str, str]] = Counter()
    for source, target in pairs:
        a, b = package_of(source, mods, depth), package_of(target, mods, depth)
        if a != b:
            counts[a, b] += 1
    return counts


@dataclass(frozen=True)
class Function:
    name: str  # qualified: Class.method, outer.inner
    path: Path
    line: int
    lines: int  # from the def line to the last line of its body (decorators not counted)


def functions(paths: Iterable[Path]) -> list[Function]:
    """Every function and method (nested ones too), longest first."""
    out = []

    def visit(node: ast.AST, prefix: str, path: Path):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                out.append(Function(name, path, child.lineno, child.end_lineno - child.lineno + 1))
                visit(child, name + ".", path)
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".", path)
            else:
                visit(child, prefix, path)

    for path in paths:
        visit(ast.parse(path.read_text(encoding="utf-8")), "", path)
    return sorted(out, key=lambda f: (-f.lines, str(f.path), f.line))


def _graph_lines(title: str, counts: Counter, edges: list[Edge], mods: dict[str, Path], depth: int | None):
    by_kind = {kind: package_graph(edges, mods, [kind], depth) for kind in KINDS}
    yield f"{title}: distinct module->module edges (a pair imported in two ways counts once), by kind"
    yield f"  {'':<24}    {'':<24} {'all':>4}   (module / function / type_checking)"
    for (a, b), n in sorted(counts.items()):
        split = " / ".join(str(by_kind[kind].get((a, b), 0)) for kind in KINDS)
        yield f"  {a:<24} -> {b:<24} {n:>4}   ({split})"


def report(root: Path = ROOT, packages: Iterable[str] = PACKAGES, top: int = 10) -> str:
    packages = tuple(packages)
    mods = modules(root, packages)
    edges = import_edges(root, packages)
    out = [f"Import graph of {', '.join(packages)} under {root}", ""]

    kind_counts = Counter(e.kind for e in edges)
    pairs = {kind: {(e.source, e.target) for e in edges if e.kind == kind} for kind in KINDS}
    out.append(
        f"{len(mods)} modules; imports of the tree's modules: {len(edges)} "
        f"({', '.join(f'{kind} {kind_counts[kind]}' for kind in KINDS)}); distinct module->module edges: "
        f"{', '.join(f'{kind} {len(pairs[kind])}' for kind in KINDS)}"
    )
    out.append("")
    for depth, title in ((1, "Top-level packages"), (None, "Packages and sub-packages")):
        counts = package_graph(edges, mods, KINDS, depth)
        out.extend(_graph_lines(title, counts, edges, mods, depth))
        for label, kinds in (("module-level imports", ("module",)), ("+ inside functions", RUNTIME)):
            graph: dict[str, set[str]] = {}
            for a, b in package_graph(edges, mods, kinds, depth):
                graph.setdefault(a, set()).add(b)
            found = cycles(graph)
            out.append(f"  cycles ({label}): {'; '.join(' <-> '.join(c) for c in found) or 'none'}")
        out.append("")

    out.append("Module cycles:")
    for label, kinds in (
        ("module-level imports only", ("module",)),
        ("module-level + inside functions", RUNTIME),
        ("all, TYPE_CHECKING blocks too", KINDS),
    ):
        found = cycles(import_graph(root, packages, kinds))
        out.append(f"  {label:<34} {len(found)} cycle(s)")
        out.extend(f"    {' <-> '.join(c)}" for c in found)
    out.append("")

    files = python_files(root, packages)
    out.append(f"{'package':<16} {'files':>6} {'lines':>8}")
    line_counts = {}
    for pkg, paths in files.items():
        line_counts[pkg] = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in paths)
        out.append(f"{pkg:<16} {len(paths):>6} {line_counts[pkg]:>8}")
    out.append(f"{'total':<16} {sum(map(len, files.values())):>6} {sum(line_counts.values()):>8}")
    out.append("")

    funcs = functions(p for paths in files.values() for p in paths)
    if funcs:
        f = funcs[0]
        out.append(f"Longest function: {f.name} ({f.path.relative_to(root)}:{f.line}), {f.lines} lines")
        out.append(f"The {min(top, len(funcs))} longest of {len(funcs)} functions:")
        width = max(len(f"{f.path.relative_to(root)}:{f.line}") for f in funcs[:top])
        out.extend(f"  {f.lines:>5}  {f'{f.path.relative_to(root)}:{f.line}':<{width}}  {f.name}" for f in funcs[:top])
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packages", nargs="+", default=list(PACKAGES), help="top-level folders (default: %(default)s)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this script's)")
    ap.add_argument("--top", type=int, default=10, help="how many of the longest functions to list")
    args = ap.parse_args(argv)
    missing = [p for p in args.packages if not (args.root / p).is_dir()]
    if missing:
        print(f"import_graph: no such folder under {args.root}: {', '.join(missing)}", file=sys.stderr)
        return 2
    print(report(args.root.resolve(), args.packages, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())

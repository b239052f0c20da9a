"""The structure the packages promise: no import circles, and layers that import downwards only.

Every import counts, wherever it stands (module level, inside a function, or under
``TYPE_CHECKING``): a circle that only type checkers see is still two modules that cannot be
understood one without the other. ``python -m tests.test_structure`` prints the import graph
of ``sim/`` and ``analysis/`` by package.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "analysis")

#: which sim packages each may import (besides itself and sim.scenario, which all may use):
#: the engine knows nothing of regimes, people or measurement; measurement reads the engine's
#: logs; people and regime attach to the engine's hooks; only sim.model wires them all.
ALLOWED = {
    "sim.scenario": set(),
    "sim.planning": set(),
    "sim.engine": {"sim.planning"},
    "sim.measure": {"sim.engine", "sim.planning"},
    "sim.people": {"sim.engine"},
    "sim.regime": {"sim.engine", "sim.measure", "sim.people"},
}


def module_name(path: Path) -> str:
    """The dotted module name of a source file under the project root."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project modules a file imports, anywhere in it (resolved to known module names)."""
    tree = ast.parse(path.read_text(), str(path))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        for name in names:
            while name and name not in known:  # `from sim.engine import agent` -> the module
                name = name.rpartition(".")[0]
            if name and name != me:
                out.add(name)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports, for every file of sim/ and analysis/."""
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    known = {module_name(p) for p in files}
    graph = {module_name(p): imports_of(p, known) for p in files}
    # importing a package runs its __init__: an edge to a package is an edge to its __init__
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
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


def layer(module: str) -> str:
    """The package a sim module belongs to for the layering rule ('sim' for sim.model etc.)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or module in ALLOWED else parts[0]


def test_no_import_circles():
    """No two modules of sim/ or analysis/ import each other, directly or around a circle."""
    found = circles(import_graph())
    assert not found, "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_sim_never_imports_analysis():
    """sim/ knows one centre and one run; analysis/ knows many runs and imports sim, not back."""
    graph = import_graph()
    bad = [(m, d) for m, deps in graph.items() if m.startswith("sim")
           for d in deps if d.startswith("analysis")]
    assert not bad, f"sim imports analysis: {bad}"


def test_layers_import_downwards():
    """Each sim package imports only the packages below it (ALLOWED), never the wiring."""
    graph = import_graph()
    bad = []
    for m, deps in graph.items():
        src = layer(m)
        if src not in ALLOWED:
            continue
        for d in deps:
            dst = layer(d)
            if dst in (src, "sim.scenario") or dst in ALLOWED[src]:
                continue
            bad.append(f"{m} -> {d}")
    assert not bad, "imports against the layering:\n" + "\n".join(sorted(bad))


def test_the_graph_sees_known_edges():
    """The import reader finds edges it must find (so the tests above cannot pass vacuously)."""
    graph = import_graph()
    assert "sim.engine.agent" in graph["sim.model"]
    assert "sim.scenario" in graph["sim.engine.demand"]
    assert "analysis.cli" in graph["analysis.entry"]  # a function-level import counts
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def main() -> None:
    """Print the import graph by package: which package imports which, and how often."""
    graph = import_graph()
    by: dict[tuple[str, str], int] = defaultdict(int)
    for m, deps in graph.items():
        for d in deps:
            if layer(m) != layer(d):
                by[layer(m), layer(d)] += 1
    for (a, b), n in sorted(by.items()):
        print(f"{a:14} -> {b:14} {n:3d} import(s)")
    found = circles(graph)
    print("circles:", "none" if not found else found)


if __name__ == "__main__":
    main()

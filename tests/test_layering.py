"""The package's layering, read from the code's own imports (those inside functions too).

Each room (a module or a package of `simulator/`) imports only rooms on lower floors, never one on
its own floor or above; the module graph has no cycles; the engine reads and writes no files.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers import ROOT

PACKAGE = ROOT / "simulator"
# From the ground up; rooms on one floor do not import each other (economics and engine never do).
FLOORS: list[set[str]] = [
    {"units", "errors"},
    {"files", "i18n"},
    {"catalog"},
    {"perf"},
    {"scenario"},
    {"workload", "privacy", "usage"},
    {"engine", "economics"},
    {"analysis"},
    {"report"},
    {"api"},
    {"batch"},
    {"probe"},
    {"cli"},
    {"__main__"},
]
FILE_IO_MODULES = {"simulator.files", "pathlib", "os", "io", "shutil", "tempfile", "json", "yaml", "csv", "sqlite3"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> set[str]:
    """Every module `name` imports, at the top or inside a function; `simulator.*` ones resolved to modules."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                out.add(child if child in MODULES else node.module)
    return out


GRAPH = {name: {m for m in imports(name) if m in MODULES} for name in MODULES}


def room(name: str) -> str:
    return name.split(".")[1] if name != "simulator" else "simulator"


def floor(name: str) -> int:
    return next(k for k, rooms in enumerate(FLOORS) if room(name) in rooms)


def test_every_room_has_a_floor() -> None:
    rooms = {room(m) for m in MODULES} - {"simulator"}
    assert rooms == set().union(*FLOORS), rooms ^ set().union(*FLOORS)


@pytest.mark.parametrize("name", sorted(set(MODULES) - {"simulator"}))
def test_a_room_imports_only_rooms_below_it(name: str) -> None:
    upward = sorted(m for m in GRAPH[name] if room(m) != room(name) and floor(m) >= floor(name))
    assert upward == [], f"{name} (floor {floor(name)}) imports {upward}"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components: every component of two or more nodes is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}, "f": set()}
    assert sorted(cycles(graph)) == [["a", "b", "c"], ["d", "e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    assert cycles(GRAPH) == []


@pytest.mark.parametrize("name", sorted(m for m in MODULES if room(m) == "engine"))
def test_the_engine_does_no_file_io(name: str) -> None:
    tree = ast.parse(MODULES[name].read_text())
    opened = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "open"]
    assert imports(name) & FILE_IO_MODULES == set() and opened == []

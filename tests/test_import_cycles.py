"""The engine's and the web app's modules import each other without circles, save by design.

A circle of imports works in Python only while each back edge stays a lazy
import inside a function, and it hides which module is the lower layer. These
tests read every module (``ast``, nothing imported), build the graph of its
imports and list the circles. The first reads ``engine/`` and leaves out the
imports under ``if TYPE_CHECKING:`` (annotations only, never run): no circle
at run time. The second reads ``engine/`` and ``web/`` and counts those too,
since a reader sees an annotation's import as a dependency like any other:
a layer that needs a type of the layer above names a Protocol below both
(``engine/ports.py``). The one circle by design: the rule actions' registry
and the built-in actions it loads, which register themselves in it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent

#: circles by design, each as the sorted tuple of its modules
BY_DESIGN = {("engine.rules.actions", "engine.rules.builtin_actions")}


def _modules(roots: tuple[str, ...] = ("engine",)) -> dict[str, Path]:
    found = {}
    for root in roots:
        for path in (ROOT / root).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _type_only(tree: ast.Module) -> set[int]:
    """The ids of the nodes under ``if TYPE_CHECKING:``."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(sub) for sub in ast.walk(node))
    return inside


def _imported(module: str, path: Path, node: ast.stmt) -> list[str]:
    """The names an import statement reads, absolute (``from a import b``: ``a.b``, as ``b``
    may be a module; the caller keeps the longest name that is one)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        package = module.split(".")[: None if path.name == "__init__.py" else -1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, *([node.module] if node.module else [])])
    return [f"{base}.{alias.name}" for alias in node.names]


def import_graph(
    roots: tuple[str, ...] = ("engine",), *, type_checking: bool = False
) -> nx.DiGraph:
    """module → the modules of ``roots`` it imports at run time (at the top or in a
    function), and with ``type_checking`` those it imports for annotations too."""
    modules = _modules(roots)
    graph = nx.DiGraph()
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = set() if type_checking else _type_only(tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            for name in _imported(module, path, node):
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                # a package's own modules import it first: never a circle of their making
                if name and name != module and not module.startswith(name + "."):
                    graph.add_edge(module, name)
    return graph


def test_no_import_circles_but_the_ones_by_design() -> None:
    graph = import_graph()
    assert graph.number_of_nodes() > 50  # the walk found the engine
    circles = {tuple(sorted(c)) for c in nx.simple_cycles(graph)}
    assert circles == BY_DESIGN, sorted(circles - BY_DESIGN)


def test_no_circles_through_annotations_either_in_the_engine_or_the_web_app() -> None:
    graph = import_graph(("engine", "web"), type_checking=True)
    assert any(m.startswith("web.") for m in graph)  # the walk found the web app
    # each tangle once, as its strongly connected modules: a count of simple cycles
    # grows fast with a tangle's size and says less
    tangles = {tuple(sorted(c)) for c in nx.strongly_connected_components(graph) if len(c) > 1}
    assert tangles == BY_DESIGN, sorted(tangles ^ BY_DESIGN)

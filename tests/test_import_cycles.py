"""The engine's modules import each other without circles, save the ones by design.

A circle of imports works in Python only while each back edge stays a lazy
import inside a function, and it hides which module is the lower layer. This
test reads every module of ``engine/`` (``ast``, nothing imported), builds the
graph of its imports, those under ``if TYPE_CHECKING:`` left out (annotations
only, never run), and lists the circles. The one by design: the rule actions'
registry and the built-in actions it loads, which register themselves in it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent

#: circles by design, each as the sorted tuple of its modules
BY_DESIGN = {("engine.rules.actions", "engine.rules.builtin_actions")}


def _modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "engine").rglob("*.py"):
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


def import_graph() -> nx.DiGraph:
    """module → the engine modules it imports at run time (at the top or in a function)."""
    modules = _modules()
    graph = nx.DiGraph()
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_only(tree)
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

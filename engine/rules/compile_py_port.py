"""What the compiler's helper modules use of the compiler, declared below all of them.

``engine.rules.compile_py`` calls its helpers (``compile_py_inline``,
``compile_py_special``, ``compile_py_numbers``) with itself as ``c``, and the
helpers call back into it. Annotating ``c`` with ``PyCompiler`` made each
helper import the module that imports it; :class:`CompilerPort` names instead
only what the helpers read and call, and ``PyCompiler`` satisfies it by its
shape (``tests/test_ports.py`` holds the two against each other).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.rules import ast
    from engine.rules.check import Checked


class CompilerPort(Protocol):
    """One Python compilation of an expression or rule set, as its helpers see it."""

    #: the checked tree: its types tell which inline forms are safe
    checked: Checked
    #: hoisted field reads by (field, kind), when the body hoists; their lines
    hoist: dict[tuple[str, str], str] | None
    hoisted: list[str]
    context_lines: set[str]
    #: the specialised body's state (see ``compile_py_special``)
    known: dict[str, str] | None
    record_subscript: str
    special_reads: list[str]
    special_keys: list[tuple[str, str]]
    guards: list[str]
    raw_locals: set[str]
    integral: set[str]

    def hoist_local(self) -> str: ...

    def const(self, value: Any) -> str: ...

    def expr(self, node: ast.Expr) -> str: ...

    def _coerce(self, node: ast.Expr, source: str) -> str: ...

    def _temp(self) -> str: ...

    def _bind(self, source: str) -> tuple[str, str]: ...


__all__ = ["CompilerPort"]

"""Which numbers the generated Python may use as they are, without ``as_number``.

"Clean" numbers are what inlining (``compile_py_inline``) and the specialised
body (``compile_py_special``) rely on: values that are an ``int`` or a
``Decimal`` at run time (never a float from JSON, never a boolean), so that the
registry's ``as_number`` on them is the identity and can be left out. Both
modules ask; it lives here so that neither imports the other back for it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from engine.rules import ast
from engine.rules.functions import is_builtin

if TYPE_CHECKING:
    from engine.rules.compile_py_port import CompilerPort

#: The number operators written inline when both sides are clean.
ARITHMETIC = ("+", "-", "*")


def clean(c: CompilerPort, node: ast.Expr) -> bool:
    """Whether ``node`` is a number that is an int or a Decimal whenever it is not null."""
    if c.checked.type_of(node).kind != "number":
        return False
    if isinstance(node, ast.Literal):
        return isinstance(node.value, int | Decimal) and not isinstance(node.value, bool)
    if isinstance(node, ast.Name):
        # record fields are read through as_number (compile_py._read_field / _coerce)
        return c.checked.resolved[id(node)].kind not in ("it", "old", "user", "event")
    if isinstance(node, ast.Attr):
        return True
    if isinstance(node, ast.Binary):
        return node.op in ARITHMETIC and clean(c, node.left) and clean(c, node.right)
    if isinstance(node, ast.Call) and id(node) not in c.checked.aggregates:
        if node.func in ("min", "max") and len(node.args) == 2 and is_builtin(node.func):
            return all(clean(c, a) for a in node.args)
        if node.func == "days_since" and is_builtin(node.func):
            return True  # a whole number of days, or null
    return False


__all__ = ["ARITHMETIC", "clean"]

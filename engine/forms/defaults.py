"""Default values for fields a new record leaves out.

Two ways to give one, as users of JSON Schema and of no-code builders expect:
``default`` (a JSON literal, copied as it is) and ``x-default`` (a literal or
one of the clock and user expressions ``now()``, ``today()``, ``user()``).
Richer expressions arrive with the rule language; until then an unknown
expression is refused when the definition is checked, never ignored here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.clock import Clock
from engine.errors import error_entry

if TYPE_CHECKING:
    from engine.forms.model_port import ModelPort

DEFAULT_EXPRESSIONS: dict[str, Callable[[Clock, str | None], Any]] = {
    "now()": lambda clock, user: clock.now(),
    "today()": lambda clock, user: clock.today(),
    "user()": lambda clock, user: user,
}


_CALL = re.compile(r"[a-z_]+\(\s*\)")


def is_default_expression(value: Any) -> bool:
    """``now()``-shaped text is an expression; ``"Acme (China)"`` stays a literal."""
    return isinstance(value, str) and bool(_CALL.fullmatch(value.strip()))


def default_errors(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Refuse an ``x-default`` expression the engine cannot evaluate (never ignore it)."""
    errors = []
    props = (definition.get("schema") or {}).get("properties") or {}
    for key, prop in props.items():
        raw = prop.get("x-default") if isinstance(prop, dict) else None
        if is_default_expression(raw) and raw.strip().replace(" ", "") not in DEFAULT_EXPRESSIONS:
            known = ", ".join(DEFAULT_EXPRESSIONS)
            errors.append(
                error_entry(
                    f"unknown default {raw!r}; use a literal value or one of {known}",
                    field=f"schema.properties.{key}.x-default",
                )
            )
    return errors


def default_value(prop: dict[str, Any], clock: Clock, user: str | None) -> tuple[bool, Any]:
    """(True, value) when the field has a default, else (False, None)."""
    if "x-default" in prop:
        raw = prop["x-default"]
        if is_default_expression(raw):
            return True, DEFAULT_EXPRESSIONS[raw.strip().replace(" ", "")](clock, user)
        return True, copy.deepcopy(raw)
    if "default" in prop:
        return True, copy.deepcopy(prop["default"])
    return False, None


def apply_defaults(
    model: ModelPort, data: dict[str, Any], clock: Clock, user: str | None
) -> dict[str, Any]:
    """A copy of ``data`` with defaults for the active fields it leaves out (child rows too)."""
    out = dict(data)
    for f in model.active_fields():
        if f.child is not None and isinstance(out.get(f.key), list):
            out[f.key] = [
                apply_defaults(f.child, row, clock, user) if isinstance(row, dict) else row
                for row in out[f.key]
            ]
            continue
        if f.key in out or f.computed:
            continue
        found, value = default_value(f.prop, clock, user)
        if found:
            out[f.key] = value
    return out

"""Field → expression maps, the config that create_record and update_related share.

Both nodes write a record from the flow's record with ``{field: expression}``;
the schema of that map and its check against the target entity live here once,
so the two nodes cannot drift in what they accept or how they report a problem.
"""

from __future__ import annotations

from typing import Any

from engine.flows.nodes.base import ValidationTools
from engine.i18n import t

NAME_PATTERN = "^[a-z][a-z0-9_]*$"

#: ``{field: rule-language expression}``, at least one.
FIELD_VALUES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "propertyNames": {"pattern": NAME_PATTERN},
    "additionalProperties": {"type": "string", "minLength": 1},
}


def field_value_problems(
    tools: ValidationTools, key: str, target: str, fields: set[str], values: dict[str, str]
) -> list[str]:
    """What is wrong with ``values`` (config key ``key``) for entity ``target``: unknown
    fields and expressions that do not check, each naming ``key.field``."""
    problems = []
    for field, expr in values.items():
        if field not in fields:
            problems.append(
                t(
                    "{key}: {field!r} is not a field of {target!r}",
                    key=key,
                    field=field,
                    target=target,
                )
            )
            continue
        problems += [f"{key}.{field}: {m}" for m in tools.check_expression(expr, False)]
    return problems


__all__ = ["FIELD_VALUES_SCHEMA", "NAME_PATTERN", "field_value_problems"]

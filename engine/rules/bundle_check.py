"""Type-check the ``.rules`` files of a bundle against the entities it will install.

The metadata layer calls this through its checker registry (see
``engine.meta.install.register_checker``), so a bundle with a rule that names
an unknown field or breaks a ``test`` example installs nothing. It needs only
``source.items("rules")`` giving files with ``relpath`` and ``text``.
"""

from __future__ import annotations

from typing import Any

from engine.rules.service import RuleService


def check_rule_files(source: Any, entities: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Error diagnostics of every rules file, as located entries with the file's path."""
    files = source.items("rules")
    if not files:
        return []
    service = RuleService(entities.get, entities=sorted(entities))
    errors = []
    for f in files:
        for d in service.check(f.text, path=f.relpath):
            if d.get("severity", "error") == "error":
                errors.append({**d, "file": f.relpath})
    return errors


EXPRESSION_KEYWORDS = ("x-computed", "x-visible-when", "x-required-when", "x-readonly-when")


def check_entity_expressions(
    source: Any, entities: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Type-check each field's computed expression and *when* conditions against the entities
    the platform will have, located at the keyword (``schema.properties.<key>.<keyword>``)."""
    files = source.items("entity")
    if not files:
        return []
    service = RuleService(entities.get, entities=sorted(entities))
    errors = []
    for f in files:
        name = (f.data or {}).get("name")
        props = ((f.data or {}).get("schema") or {}).get("properties") or {}
        if not name or name not in entities:
            continue
        for key, prop in props.items():
            for keyword in EXPRESSION_KEYWORDS:
                text = prop.get(keyword) if isinstance(prop, dict) else None
                if not isinstance(text, str) or not text.strip():
                    continue
                for d in service.check(text, entity=name):
                    if d.get("severity", "error") != "error":
                        continue
                    path = ("schema", "properties", key, keyword)
                    line, column = f.marks.locate(path)
                    errors.append(
                        {
                            "file": f.relpath,
                            "line": line,
                            "column": column,
                            "field": ".".join(path),
                            "message": f"{keyword}: {d['message']}",
                        }
                    )
    return errors

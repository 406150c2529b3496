"""Type-check the ``.rules`` files of a bundle against the entities it will install.

The metadata layer calls this through its checker registry (see
``engine.meta.install.register_checker``), so a bundle with a rule that names
an unknown field or breaks a ``test`` example installs nothing. It needs only
``source.items("rules")`` giving files with ``relpath`` and ``text``.
"""

from __future__ import annotations

from typing import Any

from engine.meta.yamlpos import dotted
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
    """Type-check each field's computed expression and *when* conditions, and each layout
    section's ``x-visible-when``, against the entities the platform will have, located at the
    keyword (``schema.properties.<key>.<keyword>``, ``layout.<i>.x-visible-when``)."""
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
        found: list[tuple[tuple[Any, ...], Any]] = [
            (("schema", "properties", key, keyword), prop.get(keyword))
            for key, prop in props.items()
            if isinstance(prop, dict)
            for keyword in EXPRESSION_KEYWORDS
        ]
        found += _layout_conditions((f.data or {}).get("layout"))
        for path, text in found:
            if not isinstance(text, str) or not text.strip():
                continue
            for d in service.check(text, entity=name):
                if d.get("severity", "error") != "error":
                    continue
                line, column = f.marks.locate(path)
                errors.append(
                    {
                        "file": f.relpath,
                        "line": line,
                        "column": column,
                        "field": dotted(path),
                        "message": f"{path[-1]}: {d['message']}",
                    }
                )
    return errors


def _layout_conditions(layout: Any) -> list[tuple[tuple[Any, ...], Any]]:
    """``x-visible-when`` of each layout section and tab, with its path in the definition."""
    out: list[tuple[tuple[Any, ...], Any]] = []
    keyword = "x-visible-when"
    for i, item in enumerate(layout if isinstance(layout, list) else []):
        if not isinstance(item, dict):
            continue
        if "tabs" not in item:
            out.append((("layout", i, keyword), item.get(keyword)))
            continue
        for j, tab in enumerate(item.get("tabs") or []):
            if not isinstance(tab, dict):
                continue
            out.append((("layout", i, "tabs", j, keyword), tab.get(keyword)))
            for k, s in enumerate(tab.get("sections") or []):
                if isinstance(s, dict):
                    out.append((("layout", i, "tabs", j, "sections", k, keyword), s.get(keyword)))
    return out

"""What the rule editor asks of the engine: completion at the cursor and example runs.

Completion combines the interactive parser (which keywords and operators fit
where the cursor is) with the catalog: the fields of the rule set's entity,
the registered functions, and the options of the enum field the cursor
compares against. Examples (``test`` blocks) run one by one, so the editor
can show each one passing or failing.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from engine.errors import RuleSyntaxError
from engine.rules.check import Checker
from engine.rules.check_rules import check_file
from engine.rules.functions import functions
from engine.rules.parse import parse_file, suggest

if TYPE_CHECKING:
    from engine.rules.service import RuleService

_HEADER = re.compile(
    r"^(?:scoring|grading|routing|trigger|schedule|validation|table)\s+\w+\s+on\s+(\w+)", re.M
)
_GIVEN = re.compile(r"^\s+given\s+(\w+)", re.M)
_ENUM_CONTEXT = re.compile(
    r"([\w.]+)\s*(?:==|!=|not\s+in|in|changed\s+to|changed\s+from)\s*\[?"
    r"(?:\s*\"[^\"\n]*\"\s*,)*\s*\"?[^\"\n]*$"
)


def entity_at(text: str, position: int) -> str | None:
    """The entity of the block the cursor is in (the last header before it)."""
    before = text[:position]
    found = list(_HEADER.finditer(before)) + list(_GIVEN.finditer(before))
    if not found:
        return None
    return max(found, key=lambda m: m.start()).group(1)


def completions(service: RuleService, text: str, position: int) -> dict[str, Any]:
    """``{"entity", "from", "items": [{label, type, detail}]}`` for the cursor at ``position``.

    ``from`` is where the word being typed starts (the editor replaces from
    there). Types: keyword, field, function, enum.
    """
    position = max(0, min(position, len(text)))
    start = position
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_"):
        start -= 1
    entity = entity_at(text, position)
    line_start = text.rfind("\n", 0, position) + 1
    line = text[line_start:position]
    items: list[dict[str, Any]] = []
    enum = _ENUM_CONTEXT.search(line)
    if enum and entity and service.catalog.exists(entity):
        info = service.catalog.lookup(entity, enum.group(1).split(".")[-1])
        options = info.type.options if info is not None else None
        if options:
            in_string = line[: len(line)].count('"') % 2 == 1
            if in_string:
                start = text.rfind('"', 0, position) + 1
            for value in options:
                items.append(
                    {
                        "label": value if in_string else f'"{value}"',
                        "type": "enum",
                        "detail": enum.group(1),
                    }
                )
            return {"entity": entity, "from": start, "items": items}
    words = suggest(text, position, start="file")
    for w in words:
        if w.startswith("<"):
            continue
        if w[:1].isalpha():
            items.append({"label": w, "type": "keyword", "detail": ""})
    if "<name>" in words:
        if entity and service.catalog.exists(entity):
            for key, info in sorted(service.catalog.fields(entity).items()):
                items.append({"label": key, "type": "field", "detail": info.type.describe()})
        for name, fn in sorted(functions().items()):
            items.append({"label": name, "type": "function", "detail": fn.doc or ""})
    return {"entity": entity, "from": start, "items": items}


def run_examples(service: RuleService, text: str, path: str | None = None) -> dict[str, Any]:
    """Each ``test`` block of the file run on its own: ``{"results": [{label, line, passed,
    message}], "errors": [...]}``. With errors other than failing examples nothing runs."""
    try:
        tree = parse_file(text, file=path)
    except RuleSyntaxError as exc:
        return {"results": [], "errors": exc.errors}
    checked = check_file(tree, Checker(service.catalog, file=path), existing=service._existing())
    errors = [d for d in checked.diagnostics if d["severity"] == "error"]
    if errors:
        return {"results": [], "errors": errors}
    results = []
    for example in tree.examples:
        one = dataclasses.replace(tree, examples=(example,))
        problems = service._run_examples(one, checked, path)
        results.append(
            {
                "label": example.label,
                "line": example.line,
                "passed": not problems,
                "message": problems[0]["message"] if problems else "",
            }
        )
    return {"results": results, "errors": []}


__all__ = ["completions", "entity_at", "run_examples"]

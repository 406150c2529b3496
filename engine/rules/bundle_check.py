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

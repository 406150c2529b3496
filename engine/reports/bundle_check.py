"""Check the ``reports/*.yaml`` files of a bundle against the entities it will install.

Registered with the metadata layer's checker registry, so a report naming an
unknown field, a sum over text, a bucket on a non-date or a filter that does
not type-check stops the install with the file, line and column.
"""

from __future__ import annotations

from typing import Any

from engine.i18n import t
from engine.reports.types import report_type, report_types
from engine.rules.service import RuleService


def check_report_files(source: Any, entities: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    files = source.items("report")
    if not files:
        return []
    rules = RuleService(entities.get, entities=sorted(entities))
    errors = []
    for f in files:
        data = f.data if isinstance(f.data, dict) else {}
        kind = data.get("type", "pivot")
        rtype = report_type(str(kind))
        if rtype is None:
            names = ", ".join(sorted(report_types()))
            errors.append(
                f.marks.entry(
                    ("type",),
                    t("{kind!r} is not a report type; use one of {names}", kind=kind, names=names),
                )
            )
            continue
        _, problems = rtype.read(
            data, rules.catalog, lambda text, entity: rules.check(text, entity=entity)
        )
        errors.extend(f.marks.entry(path, message) for path, message in problems)
    return errors


def check_dashboard_files(source: Any, entities: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Dashboards: filter and widget shapes, KPI measures, and reports that exist."""
    from engine.reports.dashboard import read_dashboard

    files = source.items("dashboard")
    if not files:
        return []
    rules = RuleService(entities.get, entities=sorted(entities))
    reports = {
        f.name: str((f.data or {}).get("source", ""))
        for f in source.items("report")
        if isinstance(f.data, dict)
    }
    errors = []
    for f in files:
        data = f.data if isinstance(f.data, dict) else {}
        problems = read_dashboard(
            data, rules.catalog, reports, lambda text, entity: rules.check(text, entity=entity)
        )
        errors.extend(f.marks.entry(path, message) for path, message in problems)
    return errors

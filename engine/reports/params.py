"""Parameters a viewer sets when running a report or a dashboard: a period, a select value.

A report's parameters are named in its definition (``parameters: [region,
{field: expected_close}]``) or, left out, read from it: a date dimension
(or the date a funnel, forecast or RFM report reads) gives a period, a
select dimension gives a choice of its options. A value set by the viewer
becomes a condition in the rule language, added to the viewer's filter, so
it is compiled to SQL and checked like any other filter (hidden fields are
refused, the row scope still applies).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from engine.reports.spec import PivotSpec

#: Keys of the non-pivot report types that name the date a period applies to.
DATE_KEYS = ("date", "close")


def _info(catalog: Any, entity: str, path: str) -> Any:
    from engine.reports.spec import resolve_path

    steps, reason = resolve_path(catalog, entity, path)
    return None if reason or not steps else steps[-1]


def parameter(catalog: Any, entity: str, path: str, *, _depth: int = 0) -> dict[str, Any] | None:
    """The input for ``path`` of ``entity``: a period for a date, a select for options."""
    info = _info(catalog, entity, path)
    if info is None:
        return None
    kind = info.type.kind
    field = info.field
    label = getattr(field, "label", None) or path
    if kind in ("date", "datetime"):
        return {"name": path, "field": path, "kind": "period", "label": label}
    prop = getattr(field, "prop", None) or {}
    computed = prop.get("x-computed")
    if kind == "string" and not info.type.options and isinstance(computed, str) and _depth < 3:
        # a copy of a referenced record's select (opportunity.region = account.region)
        found = parameter(catalog, entity, computed, _depth=_depth + 1)
        if found is not None and found.get("options"):
            return dict(found, name=path, field=path, label=label)
    if kind == "string" and info.type.options:
        labels = prop.get("x-options-labels") or {}
        options = [{"value": v, "label": labels.get(v, v)} for v in info.type.options]
        return {"name": path, "field": path, "kind": "select", "label": label, "options": options}
    if (kind == "record" and info.type.entity == "@user") or path in ("owner", "team"):
        return {"name": path, "field": path, "kind": "text", "label": label}
    return None


def value_labels(catalog: Any, entity: str, paths: list[str]) -> dict[str, dict[str, Any]]:
    """Per dimension path, the labels of its select options (``{value: label}``)."""
    out: dict[str, dict[str, Any]] = {}
    for path in paths:
        found = parameter(catalog, entity, path)
        if found is not None and found.get("options"):
            out[path] = {o["value"]: o["label"] for o in found["options"]}
    return out


def report_parameters(catalog: Any, spec: Any) -> list[dict[str, Any]]:
    """The inputs a report offers: its ``parameters`` or, left out, its date and select dimensions."""
    definition = spec.definition if isinstance(spec, PivotSpec) else spec
    source = spec.source if isinstance(spec, PivotSpec) else spec["source"]
    named = definition.get("parameters")
    if isinstance(named, list):
        paths = [p if isinstance(p, str) else (p or {}).get("field") for p in named]
    elif isinstance(spec, PivotSpec):
        paths = [d.path for d in spec.dimensions]
    else:
        paths = [spec[k] for k in DATE_KEYS if isinstance(spec.get(k), str)]
    out: list[dict[str, Any]] = []
    for path in paths:
        if not isinstance(path, str) or any(p["field"] == path for p in out):
            continue
        found = parameter(catalog, source, path)
        if found is not None:
            out.append(found)
    return out


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _date(text: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        return None


def condition(catalog: Any, entity: str, path: str, value: Any) -> str | None:
    """A rule-language condition for one parameter value, or None when it sets nothing.

    A period is ``{"from": "2026-01-01", "to": "2026-03-31"}`` (either end may be
    left out); a select or text value is compared for equality.
    """
    info = _info(catalog, entity, path)
    if info is None or value in (None, "", {}):
        return None
    kind = info.type.kind
    if kind in ("date", "datetime"):
        if not isinstance(value, dict):
            return None
        target = f"date({path})" if kind == "datetime" else path
        parts = []
        start, end = _date(value.get("from")), _date(value.get("to"))
        if start:
            parts.append(f"{target} >= @{start.isoformat()}")
        if end:
            parts.append(f"{target} <= @{end.isoformat()}")
        return " and ".join(parts) or None
    if kind == "number":
        try:
            return f"{path} == {float(value)!r}"
        except (TypeError, ValueError):
            return None
    return f"{path} == {_quote(str(value))}"


def combine(*conditions: str | None) -> str | None:
    """Several conditions joined with ``and`` (each in parentheses), or None."""
    parts = [c for c in conditions if c]
    if not parts:
        return None
    return " and ".join(f"({c})" for c in parts)


def report_filter(catalog: Any, spec: Any, values: dict[str, Any]) -> str | None:
    """The viewer's condition from parameter ``values`` (by parameter name)."""
    source = spec.source if isinstance(spec, PivotSpec) else spec["source"]
    known = {p["name"]: p for p in report_parameters(catalog, spec)}
    return combine(
        *(condition(catalog, source, known[n]["field"], v) for n, v in values.items() if n in known)
    )


__all__ = [
    "combine",
    "condition",
    "parameter",
    "report_filter",
    "report_parameters",
    "value_labels",
]

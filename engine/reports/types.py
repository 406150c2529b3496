"""The report-type registry: pivot, leaderboard, and whatever a developer adds.

A report type is a name, a ``read(definition, catalog, check_filter)`` that
returns ``(spec, problems)`` with every problem located by its path in the
definition, and a ``run(service, spec, where)`` that gets the SQL conditions
(the report's filter, the viewer's, their row scope) and returns the result.
Bundles and the metadata API check definitions through ``read``, so a new
type gets located install errors for free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.errors import PluginError
from engine.i18n import t


@dataclass(frozen=True)
class ReportType:
    name: str
    read: Callable[..., tuple[Any, list[Any]]]
    run: Callable[..., dict[str, Any]]
    doc: str = ""


_types: dict[str, ReportType] = {}


def register_report_type(rtype: ReportType) -> ReportType:
    if not rtype.name.isidentifier() or not callable(rtype.read) or not callable(rtype.run):
        raise PluginError(
            t("report type {name!r} needs an identifier name, read and run", name=rtype.name),
            [{"field": rtype.name, "message": t("name, read and run are required")}],
        )
    _types[rtype.name] = rtype
    return rtype


def report_type(name: str) -> ReportType | None:
    _builtins()
    return _types.get(name)


def report_types() -> dict[str, ReportType]:
    _builtins()
    return dict(_types)


def fields_used(spec: Any) -> set[str]:
    """The field paths a report reads (hidden fields among them make it refuse to run)."""
    from engine.reports.spec import PivotSpec

    if isinstance(spec, PivotSpec):
        return {d.path for d in spec.dimensions} | {m.field for m in spec.measures if m.field}
    keys = ("by", "stage", "amount", "close", "customer", "date")
    out = {spec[k] for k in keys if isinstance(spec.get(k), str)}
    measure = spec.get("measure")
    if measure is not None and getattr(measure, "field", None):
        out.add(measure.field)
    return out


_loaded = False


def _builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from engine.reports.leaderboard import read_leaderboard, run_leaderboard
    from engine.reports.pivot_run import run_pivot
    from engine.reports.spec import read_pivot

    register_report_type(ReportType("pivot", read_pivot, run_pivot, "rows × columns × measures"))
    register_report_type(
        ReportType("leaderboard", read_leaderboard, run_leaderboard, "ranked by a measure")
    )
    from engine.reports.forecast import read_forecast, run_forecast
    from engine.reports.funnel import read_funnel, run_funnel
    from engine.reports.rfm import read_rfm, run_rfm

    register_report_type(ReportType("funnel", read_funnel, run_funnel, "records per stage"))
    register_report_type(
        ReportType("forecast", read_forecast, run_forecast, "pipeline weighted by win rate")
    )
    register_report_type(ReportType("rfm", read_rfm, run_rfm, "customers scored 1-5"))


__all__ = ["ReportType", "fields_used", "register_report_type", "report_type", "report_types"]

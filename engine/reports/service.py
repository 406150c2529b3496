"""``p.reports``: run a report, list the records behind a cell, check a definition.

Reports are metadata (kind ``report``): a bundle's ``reports/*.yaml`` or a
definition saved through ``p.meta``. Running one compiles its filter with the
rule language's SQL compiler, adds the viewer's own filter and row scope, and
lets the database do the grouping (see :mod:`engine.reports.pivot`).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import and_, func, select

from engine.errors import ValidationError, error_entry
from engine.i18n import t
from engine.meta.yamlpos import dotted
from engine.reports.cache import (
    ResultCache,
    cache_key,
    compiled,
    spec_entities,
    tables_entities,
)
from engine.reports.drill import DRILL_LIMIT, drill_special
from engine.reports.pivot import PivotQuery
from engine.reports.pivot_run import pivot_statement, run_pivot
from engine.reports.spec import PivotSpec


class ReportService:
    """Reports over one platform's live entities."""

    def __init__(self, platform: Any) -> None:
        self.p = platform
        self._cache: ResultCache | None = None

    # ------------------------------------------------------------ definitions

    def problems(self, definition: dict[str, Any]) -> list[dict[str, Any]]:
        """Every problem of a report definition as located entries (empty when sound)."""
        _, problems = self._read(definition)
        return [error_entry(message, field=dotted(path)) for path, message in problems]

    def _read(self, definition: dict[str, Any]) -> tuple[Any, list[Any]]:
        from engine.reports.types import report_type, report_types

        kind = definition.get("type", "pivot")
        rtype = report_type(kind)
        if rtype is None:
            names = ", ".join(sorted(report_types()))
            return None, [
                (
                    ("type",),
                    t("{kind!r} is not a report type; use one of {names}", kind=kind, names=names),
                )
            ]
        rules = self.p.rules
        return rtype.read(
            definition, rules.catalog, lambda text, entity: rules.check(text, entity=entity)
        )

    def spec(self, report: str | dict[str, Any]) -> Any:
        definition = (
            self.p.meta.get("report", report)["definition"] if isinstance(report, str) else report
        )
        spec, problems = self._read(definition)
        if problems or spec is None:
            entries = [error_entry(m, field=dotted(path)) for path, m in problems]
            raise ValidationError(
                t(
                    "report {name} cannot run: {problem}",
                    name=repr(definition.get("name", "?")),
                    problem=entries[0]["message"],
                ),
                entries,
            )
        return spec

    # ------------------------------------------------------------ running

    def _where(self, spec: Any, user: Any, filters: str | None) -> list[Any]:
        """The report's filter, the viewer's filter and row scope, as SQL; hidden fields refused."""
        from engine.reports.types import fields_used

        source = spec.source if isinstance(spec, PivotSpec) else spec["source"]
        own_filter = spec.filters if isinstance(spec, PivotSpec) else spec.get("filters")
        _, table = self.p.rules.tables(source)
        user_info = None
        if user is not None:
            access = self.p.access(user)
            access.require(source, "read")
            used = fields_used(spec)
            if filters:
                used |= set(self.p.rules.compile(filters, source).reads())
            access.refuse_reads(source, used, "report")
            user_info = access.rule_user()
        clauses = []
        for text in (own_filter, filters):
            if text:
                clauses.append(self.p.rules.compile(text, source).sql(table=table, user=user_info))
        scope = getattr(self.p, "row_scope", None)
        if scope is not None:
            clause = scope(source, user, table)
            if clause is not None:
                clauses.append(clause)
        return clauses

    def _query(self, spec: PivotSpec, user: Any, filters: str | None) -> PivotQuery:
        return PivotQuery(
            spec,
            tables=self.p.rules.tables,
            catalog=self.p.rules.catalog,
            zone=self.p.clock.timezone.key,
            dialect=self.p.db.dialect,
            where=self._where(spec, user, filters),
        )

    def run(
        self,
        report: str | dict[str, Any],
        *,
        user: Any = None,
        filters: str | None = None,
        timeout: float | None = None,
        cached: bool = True,
    ) -> dict[str, Any]:
        """The report's result: ``{columns, rows, totals, chart, truncated, ...}``.

        ``report`` is a saved report's name or a definition; ``filters`` is the
        viewer's extra condition in the rule language (a date range, a team).
        ``timeout`` (seconds) defaults to the ``report_timeout_seconds`` setting; a
        longer run raises :class:`~engine.reports.timeout.ReportTimeout`. A result
        is served from the cache while no entity it reads was written since.
        """
        from engine.config import setting
        from engine.reports.timeout import time_limit
        from engine.store.versions import current

        definition = (
            self.p.meta.get("report", report)["definition"] if isinstance(report, str) else report
        )
        spec = self.spec(definition)
        where = self._where(spec, user, filters)
        if timeout is None:
            timeout = setting("report_timeout_seconds")
        name = spec.name if isinstance(spec, PivotSpec) else str(spec.get("name", "?"))
        statement, params, reads, prepared = self._identity(spec, where)
        with self.p.db.transaction(write=False) as conn:
            # Versions first: a write committing after this read makes the key stale, never
            # the result older than its key.
            versions = current(conn, reads)
            # The definition and the entities' generation carry the labels a result shows;
            # today's date, what "recent" and "this month" mean in types that ask the clock.
            extra = [definition, self.p.entities.generation, self.p.clock.today().isoformat()]
            key = cache_key(statement, params, self._scope(user), versions, extra)
            if cached:
                hit = self.cache.get(key)
                if hit is not None:
                    return hit
            with time_limit(conn, timeout, name):
                if isinstance(spec, PivotSpec):
                    result = run_pivot(self, spec, where, prepared)
                else:
                    from engine.reports.types import report_type

                    rtype = report_type(spec.get("type", "pivot"))
                    result = rtype.run(self, spec, where)  # type: ignore[union-attr]
        self.cache.put(key, result)
        return result

    @property
    def cache(self) -> ResultCache:
        """This platform's report result cache (see :mod:`engine.reports.cache`)."""
        if self._cache is None:
            from engine.config import setting

            self._cache = ResultCache(int(setting("report_cache_mb")) * 1024 * 1024)
        return self._cache

    def _scope(self, user: Any) -> Any:
        """What the viewer may see, as far as a cached result is concerned."""
        if user is None:
            return None
        return self.p.access(user).rule_user()

    def _identity(self, spec: Any, where: list[Any]) -> tuple[str, Any, set[str], Any]:
        """The SQL (or definition) and parameters that decide a result, what it reads,
        and for a pivot the prepared statement (so it is built once per run)."""
        dialect = self.p.db.engine.dialect
        if isinstance(spec, PivotSpec):
            prepared = pivot_statement(self, spec, where)
            sql, params = compiled(prepared[1], dialect)
            return sql, [params, spec.max_cells], tables_entities(self.p, prepared[1]), prepared
        clauses = [compiled(c, dialect) for c in where]
        definition = orjson.dumps(spec, default=str, option=orjson.OPT_SORT_KEYS).decode()
        return definition, clauses, spec_entities(self.p, spec["source"], spec), None

    def export(
        self,
        report: str | dict[str, Any],
        fmt: str,
        out: Any,
        *,
        user: Any = None,
        filters: str | None = None,
        lang: str = "en",
    ) -> dict[str, Any]:
        """Write the report as ``csv`` (to a text stream), ``xlsx`` or ``pdf`` (to a binary
        stream); returns the result it wrote, so the caller can say how many rows went out.
        ``lang`` picks the language of the labels (``en``, ``zh-CN``)."""
        from engine.forms.entity import label_text
        from engine.reports.export import FORMATS, write_csv, write_pdf, write_xlsx

        if fmt not in FORMATS:
            raise ValidationError(
                t("cannot export a report as {format}", format=repr(fmt)),
                [
                    error_entry(
                        t("use one of {formats}", formats=", ".join(FORMATS)), field="format"
                    )
                ],
            )
        result = self.run(report, user=user, filters=filters)
        if fmt == "pdf":
            definition = report if isinstance(report, dict) else self.p.meta.get("report", report)
            definition = definition.get("definition", definition)
            title = label_text(definition.get("label"), lang, str(definition.get("name", "")))
            write_pdf(result, out, title=title, lang=lang)
        else:
            (write_csv if fmt == "csv" else write_xlsx)(result, out, lang)
        return result

    def parameters(self, report: str | dict[str, Any]) -> list[dict[str, Any]]:
        """The inputs a viewer may set when running ``report`` (see :mod:`engine.reports.params`)."""
        from engine.reports.params import report_parameters

        return report_parameters(self.p.rules.catalog, self.spec(report))

    def parameter_filter(self, report: str | dict[str, Any], values: dict[str, Any]) -> str | None:
        """The rule-language condition for parameter ``values`` (None when none is set)."""
        from engine.reports.params import report_filter

        return report_filter(self.p.rules.catalog, self.spec(report), values)

    def dashboard(
        self, dashboard: str | dict[str, Any], *, user: Any = None, values: Any = None
    ) -> dict[str, Any]:
        """Every widget of a dashboard under its global filter ``values`` (by filter name)."""
        from engine.reports.dashboard import run_dashboard

        return run_dashboard(self, dashboard, user=user, values=values)

    def dashboard_problems(self, definition: dict[str, Any]) -> list[dict[str, Any]]:
        """Every problem of a dashboard definition as located entries (empty when sound)."""
        from engine.reports.dashboard import read_dashboard

        with self.p.db.transaction(write=False) as conn:
            stored = self.p.repo.all_current(conn, "report")
        reports = {n: str(d.get("source", "")) for n, (d, _v) in stored.items()}
        rules = self.p.rules
        problems = read_dashboard(
            definition, rules.catalog, reports, lambda t, e: rules.check(t, entity=e)
        )
        return [error_entry(message, field=dotted(path)) for path, message in problems]

    def drill(
        self,
        report: str | dict[str, Any],
        key: list[Any],
        *,
        user: Any = None,
        filters: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """The records behind one cell: ``key`` gives the row keys then the column keys
        (a shorter key is a subtotal or total); for a funnel, ``[stage]``, for a
        leaderboard, ``[ranked value]`` (see ``engine/reports/drill.py``).
        Returns ``{count, records}``."""
        spec = self.spec(report)
        if not isinstance(spec, PivotSpec):
            return drill_special(self, spec, key, self._where(spec, user, filters), limit, user)
        query = self._query(spec, user, filters)
        dims = query.dims[: len(key)]
        key = [_key_value(v, d) for v, d in zip(key, spec.dimensions)]
        conditions = [d.is_(None) if value is None else d == value for d, value in zip(dims, key)]
        table = query.source.table
        where = and_(*query.where, *conditions)
        base = select(table.c.id).select_from(query.source.joined).where(where)
        with self.p.db.transaction(write=False) as conn:
            ids = list(
                conn.execute(base.order_by(table.c.id).limit(min(limit, DRILL_LIMIT))).scalars()
            )
            count = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        service = self.p.records(spec.source, user if isinstance(user, str) else None)
        return {"count": int(count), "records": [service.get(i) for i in ids]}


def _key_value(value: Any, dim: Any) -> Any:
    """A cell key as JSON carries it (a period as ``"2025-04-01"``) back to its SQL value."""
    import datetime as dt

    from engine.reports.buckets import CYCLES

    if isinstance(value, str) and dim.bucket is not None and dim.bucket not in CYCLES:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


__all__ = ["ReportService"]

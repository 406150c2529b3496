"""Small fixed statements compiled once per dialect and sent on the DBAPI cursor.

Every API write sends a few tiny statements whose SQL never changes: the
sign-in read, the record id from its sequence, the data-version bump at commit.
Through ``Connection.execute`` each one pays SQLAlchemy's per-call work (the
statement's construction, its cache key, an execution context and a
``CursorResult``): measured on ``bench/load_profile.py``, more CPU than the
round trip itself. :class:`FixedStatement` compiles its statement once per
dialect, keeps the SQL text, the literal values and the type converters, and
executes on the connection's own DBAPI cursor: the same transaction, bound
parameters only, and rows converted by the column types exactly as
``Connection.execute`` converts them. The engine's cursor events still see
each statement (statement logs, and the tests and benches that count round
trips); with no listener those calls do nothing. :func:`execute_driver` does
the same for SQL text built elsewhere (a record's prepared INSERT).

``engine.flows.fastsql`` does the same for flow steps; it sits above the store,
so the store keeps its own (smaller: no per-key compilation, no executemany).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement


class _Compiled:
    """One statement on one dialect: its SQL, how to bind values, how to read rows."""

    __slots__ = (
        "columns",
        "defaults",
        "named",
        "order",
        "processors",
        "readers",
        "result_types",
        "row",
        "sql",
    )

    def __init__(self, stmt: ClauseElement, dialect: Any) -> None:
        compiled = stmt.compile(dialect=dialect)
        self.named = not compiled.positional
        #: bind names in the order the driver wants them (positional styles) or all of them
        self.order: tuple[str, ...] = tuple(
            compiled.positiontup
            if compiled.positional
            else dict.fromkeys(compiled.bind_names.values())
        )
        #: literal values written in the statement (``version + 1``); given values override
        self.defaults: dict[str, Any] = dict(compiled.construct_params(_check=False))
        processors = compiled._bind_processors
        self.processors = tuple((k, processors[k]) for k in self.order if k in processors)
        self.row: Any = None
        #: (position, converter) of the result columns that need one; found at the first
        #: result, because a driver's converter may depend on the type the server reports
        #: (psycopg's numeric) and that is known only from the cursor's description
        self.readers: tuple[tuple[int, Any], ...] | None = None
        #: the result's column names, exactly (the named tuple renames keywords like ``from``)
        self.columns: tuple[str, ...] = ()
        self.result_types: tuple[Any, ...] = ()
        if compiled._result_columns:
            columns = [c[0] for c in compiled._result_columns]
            self.columns = tuple(columns)
            self.row = namedtuple("FixedRow", columns, rename=True)  # type: ignore[misc]
            self.result_types = tuple(c[3] for c in compiled._result_columns)
        self.sql = compiled.string

    def result_readers(self, cursor: Any, dialect: Any) -> tuple[tuple[int, Any], ...]:
        """The converters of the result columns, found once from ``cursor``'s description."""
        if self.readers is None:
            described = cursor.description or ()
            found = []
            for i, type_ in enumerate(self.result_types):
                code = described[i][1] if i < len(described) else None
                reader = type_._cached_result_processor(dialect, code)
                if reader is not None:
                    found.append((i, reader))
            self.readers = tuple(found)
        return self.readers

    def params(self, values: Mapping[str, Any]) -> Any:
        params = {**self.defaults, **values}
        for key, processor in self.processors:
            if params[key] is not None:
                params[key] = processor(params[key])
        if self.named:
            return params
        return [params[k] for k in self.order]


def execute_driver(conn: Connection, sql: str, params: Any) -> Any:
    """``conn.exec_driver_sql(sql, params)`` for one parameter set, on the DBAPI cursor.

    The same driver call without SQLAlchemy's execution context and result; the
    engine's cursor events see the statement, and a driver error comes out as
    SQLAlchemy's wrapped exception (``IntegrityError`` and so on), as from
    ``exec_driver_sql``, so callers handle both paths alike.
    """
    cursor = conn.connection.dbapi_connection.cursor()
    dispatch = conn.dispatch
    dispatch.before_cursor_execute(conn, cursor, sql, params, None, False)
    dbapi = conn.dialect.loaded_dbapi
    try:
        cursor.execute(sql, params)
    except dbapi.Error as exc:
        raise DBAPIError.instance(sql, params, exc, dbapi.Error) from exc
    dispatch.after_cursor_execute(conn, cursor, sql, params, None, False)
    return cursor


class FixedStatement:
    """A statement built once; :meth:`execute` runs it on a connection's DBAPI cursor.

    For small statements with plain bound values only: an expanding (``IN``
    list) parameter is rendered when SQLAlchemy executes, so it has no fixed SQL.
    """

    def __init__(self, stmt: ClauseElement) -> None:
        self.stmt = stmt
        self._by_dialect: dict[str, _Compiled] = {}

    def compiled(self, conn: Connection) -> _Compiled:
        found = self._by_dialect.get(conn.dialect.name)
        if found is None:
            found = self._by_dialect[conn.dialect.name] = _Compiled(self.stmt, conn.dialect)
        return found

    def execute(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        """Run with ``values`` (bind name → Python value); returns the DBAPI cursor."""
        compiled = self.compiled(conn)
        return execute_driver(conn, compiled.sql, compiled.params(values or {}))

    def rows(self, conn: Connection, values: Mapping[str, Any] | None = None) -> list[Any]:
        """The result rows as named tuples, each value converted by its column's type
        (plain DBAPI rows for textual SQL, which names no column types)."""
        compiled = self.compiled(conn)
        cursor = self.execute(conn, values)
        raw = cursor.fetchall()
        if compiled.row is None:  # textual SQL: no column types to convert by
            return raw
        readers = compiled.result_readers(cursor, conn.dialect)
        return [compiled.row._make(r) for r in _converted(readers, raw)]

    def mappings(
        self, conn: Connection, values: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The result rows as dicts keyed by column name (the statement must select
        columns), each value converted by its column's type."""
        compiled = self.compiled(conn)
        cursor = self.execute(conn, values)
        raw = cursor.fetchall()
        readers = compiled.result_readers(cursor, conn.dialect)
        columns = compiled.columns
        return [dict(zip(columns, r)) for r in _converted(readers, raw)]


def _converted(readers: tuple[tuple[int, Any], ...], raw: list[Any]) -> list[Any]:
    """``raw`` driver rows with each value converted by its column's result processor."""
    if not readers:
        return raw
    out = []
    for found in raw:
        values = list(found)
        for i, reader in readers:
            if values[i] is not None:
                values[i] = reader(values[i])
        out.append(values)
    return out


__all__ = ["FixedStatement", "execute_driver"]

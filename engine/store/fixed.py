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

    __slots__ = ("defaults", "named", "order", "processors", "readers", "row", "sql")

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
        self.readers: tuple[tuple[int, Any], ...] = ()
        if compiled._result_columns:
            columns = [c[0] for c in compiled._result_columns]
            self.row = namedtuple("FixedRow", columns, rename=True)  # type: ignore[misc]
            readers = (
                c[3]._cached_result_processor(dialect, None) for c in compiled._result_columns
            )
            self.readers = tuple((i, r) for i, r in enumerate(readers) if r is not None)
        self.sql = compiled.string

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
        raw = self.execute(conn, values).fetchall()
        if compiled.row is None:  # textual SQL: no column types to convert by
            return raw
        if not compiled.readers:
            return [compiled.row._make(r) for r in raw]
        out = []
        for found in raw:
            values_ = list(found)
            for i, reader in compiled.readers:
                if values_[i] is not None:
                    values_[i] = reader(values_[i])
            out.append(compiled.row._make(values_))
        return out


__all__ = ["FixedStatement", "execute_driver"]

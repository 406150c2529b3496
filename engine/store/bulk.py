"""Many-row INSERTs through the driver, with the columns' own conversions.

``conn.execute(insert(table), rows)`` compiles and processes every row
through SQLAlchemy's general machinery, which costs more than the database's
own work for the narrow rows a record service writes in bulk. This module
builds the INSERT text once per (table, dialect), takes each column's bind
processor (the exact conversion SQLAlchemy would apply: UTC datetimes,
decimals, JSON) once, converts the rows in one tight loop and hands them to
the driver's ``executemany``. Same SQL, same values, less overhead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.engine import Connection

_cache: dict[tuple[int, str, tuple[str, ...]], BulkInsert] = {}


class BulkInsert:
    """The prepared INSERT of one table for one dialect."""

    def __init__(self, table: Table, dialect: Any, keys: Sequence[str]) -> None:
        self.table = table
        self.columns = [table.c[k] for k in keys]
        keys = [c.key for c in self.columns]
        stmt = insert(table).values({k: bindparam(f"p_{i}") for i, k in enumerate(keys)})
        compiled = stmt.compile(dialect=dialect)
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        names = (
            list(compiled.positiontup or [])
            if self.positional
            else [f"p_{i}" for i in range(len(keys))]
        )
        index = {f"p_{i}": i for i in range(len(keys))}
        #: for each parameter in the SQL, which column feeds it
        self.order = [index[n] for n in names]
        self.names = names
        self.processors: list[Callable[[Any], Any] | None] = [
            c.type._cached_bind_processor(dialect) for c in self.columns
        ]

    def rows(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """Driver parameters: tuples (positional styles) or dicts (named styles).

        Nulls skip their processor, and a value that is the same object as the
        previous row's (a batch's shared ``created_on``) reuses its conversion.
        """
        keys = [c.key for c in self.columns]
        procs = self.processors
        width = len(keys)
        seen: list[Any] = [_UNSET] * width
        done: list[Any] = [None] * width
        columns = list(zip(range(width), keys, procs))
        out = []
        for row in rows:
            values = []
            for i, key, proc in columns:
                v = row.get(key)
                if proc is not None and v is not None:
                    if v is seen[i]:
                        v = done[i]
                    else:
                        seen[i] = v
                        v = done[i] = proc(v)
                values.append(v)
            if self.positional:
                out.append(tuple(values[i] for i in self.order))
            else:
                out.append({n: values[i] for n, i in zip(self.names, self.order)})
        return out


_UNSET = object()


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (column key → Python value) in one executemany.

    The columns are the first row's keys (every row has the same keys), so
    columns left out keep their database defaults (an id from its sequence).
    """
    if not rows:
        return
    keys = tuple(rows[0])
    key = (id(table), conn.dialect.name, keys)
    prepared = _cache.get(key)
    if prepared is None or prepared.table is not table:
        if len(_cache) > 500:
            _cache.clear()
        prepared = _cache[key] = BulkInsert(table, conn.dialect, keys)
    conn.exec_driver_sql(prepared.sql, prepared.rows(rows))


__all__ = ["BulkInsert", "bulk_insert"]

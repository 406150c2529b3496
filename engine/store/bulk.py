"""Many-row INSERTs through the driver, with the columns' own conversions.

``conn.execute(insert(table), rows)`` compiles and processes every row
through SQLAlchemy's general machinery, which costs more than the database's
own work for the narrow rows a record service writes in bulk. This module
builds the INSERT text once per (table, dialect, columns), takes each
column's bind processor (the exact conversion SQLAlchemy would apply: UTC
datetimes, decimals, JSON) once, and writes a small function that turns a
batch of rows into the driver's parameters in one pass: no per-column loop,
no per-value dispatch. The generated source is built from column keys
(emitted with ``repr``) and indexes only; processors are passed in as
constants. Same SQL, same values, less overhead.
"""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Table, bindparam, insert
from sqlalchemy.engine import Connection

from engine.store.db import json_text
from engine.store.types import UTCDateTime

_cache: dict[tuple[int, str, tuple[str, ...], tuple[str, ...] | None], BulkInsert] = {}
_UNSET = object()


class BulkInsert:
    """The prepared INSERT of one table for one dialect.

    ``keys`` are the column keys written; ``sources`` (same length, optional)
    are the keys each column's value is read from in the rows given to
    :meth:`rows`, so a record keyed by field names can be written without
    first being copied into a column-keyed dict.
    """

    def __init__(
        self,
        table: Table,
        dialect: Any,
        keys: Sequence[str],
        sources: Sequence[str] | None = None,
    ) -> None:
        self.table = table
        self.dialect_name = dialect.name
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
        self.sources = list(sources) if sources is not None else keys
        self.rows: Callable[[Sequence[dict[str, Any]]], list[Any]] = self._compile()

    def _compile(self) -> Callable[[Sequence[dict[str, Any]]], list[Any]]:
        """Write ``rows(batch)``: driver parameters, tuples (positional) or dicts (named).

        Nulls skip their processor, and a value that is the same object as the
        previous row's (a batch's shared ``created_on``) reuses its conversion.
        Booleans take their processor's answer for ``True`` and ``False``,
        computed once, and a UTC datetime or a date takes the inline
        conversion :func:`fast_conversion` proved equal to the processor.
        """
        consts: dict[str, Any] = {"_UNSET": _UNSET, **_INLINE}
        setup, body, values = [], [], []
        for i, (source, proc, column) in enumerate(
            zip(self.sources, self.processors, self.columns)
        ):
            if proc is None:
                values.append(f"g({source!r})")
                continue
            consts[f"P{i}"] = proc
            setup.append(f"    s{i} = d{i} = _UNSET")
            body += [
                f"        v = g({source!r})",
                "        if v is None:",
                f"            a{i} = None",
            ]
            if isinstance(column.type, Boolean):
                consts[f"T{i}"], consts[f"F{i}"] = proc(True), proc(False)
                body += [
                    "        elif v is True:",
                    f"            a{i} = T{i}",
                    "        elif v is False:",
                    f"            a{i} = F{i}",
                ]
            body += [f"        elif v is s{i}:", f"            a{i} = d{i}"]
            fast = fast_conversion(column.type, self.dialect_name, proc)
            if fast is not None:
                test, expr = fast
                body += [
                    f"        elif {test}:",
                    f"            s{i} = v",
                    f"            a{i} = d{i} = {expr}",
                ]
            body += [
                "        else:",
                f"            s{i} = v",
                f"            a{i} = d{i} = P{i}(v)",
            ]
            values.append(f"a{i}")
        ordered = [values[i] for i in self.order]
        if self.positional:
            row = "(" + "".join(f"{v}, " for v in ordered) + ")"
        else:
            row = "{" + ", ".join(f"{n!r}: {v}" for n, v in zip(self.names, ordered)) + "}"
        source = "\n".join(
            [
                "def rows(batch):",
                "    out = []",
                "    append = out.append",
                *setup,
                "    for r in batch:",
                "        g = r.get",
                *body,
                f"        append({row})",
                "    return out",
            ]
        )
        namespace: dict[str, Any] = dict(consts)
        exec(compile(source, f"<bulk insert {self.table.name}>", "exec"), namespace)
        return namespace["rows"]


#: The names inline conversions use.
_INLINE = {"DATETIME": dt.datetime, "DATE": dt.date, "UTC": dt.UTC, "JSON_TEXT": json_text}

#: Values each inline conversion is checked on against the column's own processor.
_SAMPLES = {
    "datetime": [
        dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        dt.datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2024, 2, 29, 12, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 1, 8, 0, 0, 500, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 1, tzinfo=dt.UTC),
    ],
    "date": [dt.date(1, 1, 1), dt.date(999, 1, 2), dt.date(2024, 2, 29), dt.date(9999, 12, 31)],
    "list": [[], ["vip", "new"], ["名", 1, 2.5, None, True, "\u2028"], [{"b": 1, "a": [1.0]}]],
}


def fast_conversion(
    column_type: Any, dialect: str, proc: Callable[[Any], Any]
) -> tuple[str, str] | None:
    """(test, expression) on ``v`` that converts the usual values of a column inline.

    A datetime column's processor (``UTCDateTime`` then the dialect's own)
    costs several microseconds a value, mostly in general dispatch: on SQLite
    a UTC ``datetime`` becomes the same text through one ``%`` format, on
    PostgreSQL it is passed as it is; a ``date`` on SQLite is its
    ``isoformat`` and a list in a JSON column is ``json_text``. Any other value (another class or time zone) still goes
    through the processor. The expression is checked against the processor on
    sample values here and used only when every result is equal and of the
    same type, so a changed processor (another storage format, another
    driver) silently keeps the processor.
    """
    if isinstance(column_type, UTCDateTime):
        test, kind = "v.__class__ is DATETIME and v.tzinfo is UTC", "datetime"
        expr = {
            "sqlite": "'%04d-%02d-%02d %02d:%02d:%02d.%06d' % (v.year, v.month, v.day,"
            " v.hour, v.minute, v.second, v.microsecond)",
            "postgresql": "v",
        }.get(dialect)
    elif isinstance(column_type, Date) and dialect == "sqlite":
        test, kind, expr = "v.__class__ is DATE", "date", "v.isoformat()"
    elif isinstance(column_type, JSON) and dialect == "sqlite":
        test, kind, expr = "v.__class__ is list", "list", "JSON_TEXT(v)"
    else:
        return None
    if expr is None:
        return None
    check = eval(compile(f"lambda v: {expr}", "<fast conversion>", "eval"), dict(_INLINE))
    for sample in _SAMPLES[kind]:
        want, got = proc(sample), check(sample)
        if type(want) is not type(got) or want != got:
            return None
    return test, expr


def prepared_insert(
    conn: Connection, table: Table, keys: Sequence[str], sources: Sequence[str] | None = None
) -> BulkInsert:
    """The cached :class:`BulkInsert` for these columns on this connection's dialect."""
    key = (id(table), conn.dialect.name, tuple(keys), tuple(sources) if sources else None)
    prepared = _cache.get(key)
    if prepared is None or prepared.table is not table:
        if len(_cache) > 500:
            _cache.clear()
        prepared = _cache[key] = BulkInsert(table, conn.dialect, keys, sources)
    return prepared


def taking_id_cte(table: Table, prepared: BulkInsert) -> Any:
    """``prepared``'s INSERT as a CTE named ``created`` that takes the id from the
    table's sequence and returns it (PostgreSQL): the bound names stay ``prepared``'s
    (``p_<i>``; the id's own is left unused), so its driver parameters fit."""
    from engine.store.counters import sequence_for

    values = {
        c.key: sequence_for(table.name).next_value()
        if c.key == "id"
        else bindparam(f"p_{i}", type_=c.type)
        for i, c in enumerate(prepared.columns)
    }
    return insert(table).values(values).returning(table.c.id).cte("created")


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (column key → Python value) in one executemany.

    The columns are the first row's keys (every row has the same keys), so
    columns left out keep their database defaults (an id from its sequence).
    """
    if not rows:
        return
    prepared = prepared_insert(conn, table, tuple(rows[0]))
    conn.exec_driver_sql(prepared.sql, prepared.rows(rows))


def insert_records(
    conn: Connection, table: Table, columns: Sequence[tuple[str, str]], records: Sequence[Any]
) -> None:
    """Insert ``records`` keyed by field names: ``columns`` pairs (column key, record key)."""
    if not records:
        return
    prepared = prepared_insert(conn, table, [c for c, _ in columns], [k for _, k in columns])
    conn.exec_driver_sql(prepared.sql, prepared.rows(records))


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch builds many small dicts.

    A bulk write allocates a few dicts per record and frees them by reference
    counting; the cyclic collector, triggered by the allocation count, would
    meanwhile rescan every live object again and again (a fifth of a large
    import's time). Nested and concurrent holders share one pause; the
    collector is switched back on by the last one, only if it was on before.
    """
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


__all__ = ["BulkInsert", "bulk_insert", "collector_paused", "insert_records", "prepared_insert"]

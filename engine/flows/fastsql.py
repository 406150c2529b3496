"""Run the step's fixed statements on the DBAPI cursor, compiled once per dialect.

A flow step runs about ten small statements. Through ``Connection.execute``
each one pays SQLAlchemy's per-call work (cache key, ``_init_compiled``,
parameter construction, a ``CursorResult`` with its metadata): measured on the
approval bench, that was two thirds of a completion, ten times SQLite's own
time. The statements a step runs are fixed, so :class:`Fixed` compiles each
one once per dialect (and per set of given columns for inserts and updates),
keeps the SQL string, the bind order and the type processors (``UTCDateTime``
stores naive UTC on SQLite), and executes on the cursor of the step's own
DBAPI connection: the same transaction, bound parameters only.

Values go through the column types' bind processors and rows through their
result processors, so callers see exactly what ``Connection.execute`` gives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, ClassVar

from sqlalchemy.sql import ClauseElement

from engine.store.types import UTC, UTCDateTime

_fromisoformat = dt.datetime.fromisoformat

#: statements run through :class:`Fixed` so far (a bench and its tests read it)
COUNTER = {"statements": 0}

_MISSING = object()


class _Compiled:
    """One statement for one dialect and one set of given keys."""

    __slots__ = (
        "columns",
        "layouts",
        "literals",
        "named",
        "order",
        "params",
        "plain",
        "plan",
        "processors",
        "readers",
        "sql",
    )

    #: converted values of the last bind processor calls, by (dialect, column type,
    #: value): a step binds its one ``now`` a dozen times, and UTCDateTime's
    #: conversion is the dearest part of binding
    _memo: ClassVar[dict[tuple[Any, Any], Any]] = {}

    def __init__(self, stmt: ClauseElement, dialect: Any, keys: tuple[str, ...] | None) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys) if keys else None)
        self.sql: str = compiled.string
        self.named = not compiled.positional
        binds = compiled.bind_names
        # Bind names as the compiler rendered them, in rendering order for positional styles.
        if compiled.positional:
            self.order: tuple[str, ...] = tuple(compiled.positiontup or ())
        else:
            self.order = tuple(
                dict.fromkeys(binds[b] for b in compiled.binds.values() if b in binds)
            )
        processors = compiled._bind_processors
        self.processors = {
            k: _writer_of(compiled.binds[k].type, dialect, processors[k])
            if k in compiled.binds
            else processors[k]
            for k in self.order
            if k in processors
        }
        # Literal values in the statement (``status == 'open'``) become binds too.
        self.literals = {
            binds[b]: b.effective_value
            for b in compiled.binds.values()
            if b in binds and not b.required and b.callable is None and b.value is not None
        }
        #: (key, is it given by the caller, literal value, processor, memo key) per bind
        self.plan = tuple(
            (
                k,
                k not in self.literals,
                self.literals.get(k),
                self.processors.get(k),
                (dialect.name, type(compiled.binds[k].type)) if k in compiled.binds else k,
            )
            for k in self.order
        )
        self.columns: tuple[str, ...] = ()
        self.readers: tuple[Any, ...] = ()
        #: per tuple of prefixes, the row function of :meth:`Fixed.first_parts` (``()``: of
        #: :meth:`Fixed.rows`, one dict a row), written once (see :func:`_layout`)
        self.layouts: dict[tuple[str, ...], Any] = {}
        if getattr(compiled, "_result_columns", None):
            result = compiled._result_columns
            self.columns = tuple(c[0] for c in result)
            readers = [_reader(c[3], dialect) for c in result]
            # only the columns that need converting: (position, name, processor)
            self.readers = tuple(
                (i, self.columns[i], r) for i, r in enumerate(readers) if r is not None
            )

        #: every bind given by the caller with no converter: parameters are a plain pick
        self.plain = all(given and proc is None for _k, given, _l, proc, _m in self.plan)
        #: the same parameters as :meth:`general_params`, by a function written for
        #: this statement (see :func:`_writer`): the plan's loop was a tenth of a step
        self.params = _writer(self)

    def general_params(self, values: dict[str, Any]) -> Any:
        """The DBAPI parameters for ``values``: in bind order, literals filled in, converted."""
        if self.plain:
            if self.named:
                return {k: values[k] for k in self.order}
            return [values[k] for k in self.order]
        out = []
        memo = self._memo
        for key, given, literal, proc, kind in self.plan:
            value = values[key] if given else literal
            if proc is not None and value is not None:
                done = memo.get((kind, value), _MISSING)
                if done is _MISSING:
                    if len(memo) > 64:
                        memo.clear()
                    done = memo[(kind, value)] = proc(value)
                value = done
            out.append(value)
        return dict(zip(self.order, out, strict=True)) if self.named else out


def _layout_of(compiled: _Compiled, prefixes: tuple[str, ...]) -> Any:
    """``compiled``'s row function for ``prefixes`` (``()``: one dict), written once."""
    found = compiled.layouts.get(prefixes)
    if found is None:
        found = compiled.layouts[prefixes] = _layout(compiled, prefixes)
    return found


def _layout(compiled: _Compiled, prefixes: tuple[str, ...]) -> Callable[[Any], Any]:
    """A function splitting a raw row into ``[rest, <prefix 1>, ...]``, written out.

    One dict display per group, each value ``raw[i]`` or its reader's result
    (None stays None): a 44-column joined row costs the picks alone, where a
    loop over the columns was a tenth of a completion. Tests compare it with
    a loop over the columns (``tests/flows/defs.py``'s ``general_rows``) and popping
    the prefixed names. With no
    prefixes it gives the row's one dict itself (:meth:`Fixed.rows`).
    """
    readers = {i: r for i, _name, r in compiled.readers}
    names: dict[str, Any] = {}
    groups: list[list[str]] = [[] for _ in range(len(prefixes) + 1)]
    for i, column in enumerate(compiled.columns):
        group, name = 0, column
        for g, prefix in enumerate(prefixes, 1):
            if column.startswith(prefix):
                group, name = g, column[len(prefix) :]
                break
        value = f"raw[{i}]"
        if i in readers:
            names[f"_r{i}"] = readers[i]
            value = f"(None if raw[{i}] is None else _r{i}(raw[{i}]))"
        groups[group].append(f"{name!r}: {value}")
    displays = ["{" + ", ".join(g) + "}" for g in groups]
    body = "[" + ", ".join(displays) + "]" if prefixes else displays[0]
    exec(f"def split(raw):\n    return {body}\n", names)  # our own columns, no input text
    return names["split"]


def _reader(type_: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """The result processor of a column type; on SQLite a quicker one for UTCDateTime.

    SQLite keeps naive UTC as ``YYYY-MM-DD HH:MM:SS.ffffff`` text; SQLAlchemy's
    processor parses it by a regular expression and the type then adds the
    zone: ``fromisoformat`` gives the same datetime for that text at a fraction of
    the cost (a completion reads half a dozen of them). Anything else keeps the
    type's own processor (tests compare both).
    """
    if dialect.name == "sqlite" and isinstance(type_, UTCDateTime):
        return _read_sqlite_utc
    return type_._cached_result_processor(dialect, None)


def _writer_of(type_: Any, dialect: Any, general: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The bind processor of a column type; on SQLite a quicker one for UTCDateTime.

    The type's own chain (to naive UTC, then SQLAlchemy's ``%``-format of seven
    fields) is the dearest conversion of a step, paid once per step for its
    new ``now``. An aware ``datetime`` gives the same text by ``isoformat``;
    anything else (naive, a date, a subclass) keeps the general chain, errors
    included (tests compare both).
    """
    if dialect.name == "sqlite" and isinstance(type_, UTCDateTime):
        return partial(_write_sqlite_utc, general)
    return general


def _write_sqlite_utc(general: Callable[[Any], Any], value: Any) -> Any:
    """An aware datetime → the naive UTC text SQLite keeps; else the type's own processor.

    A UTC datetime (the clock's) needs no conversion: its ISO text without the
    ``+00:00`` it ends with (``replace`` with a keyword costs a microsecond).
    """
    if type(value) is dt.datetime:
        zone = value.tzinfo
        if zone is UTC:
            return value.isoformat(" ", "microseconds")[:-6]
        if zone is not None:
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return general(value)


#: the length of ``YYYY-MM-DD HH:MM:SS.ffffff``, the text both writers give
_STORED_LENGTH = 26


def _read_sqlite_utc(value: Any) -> Any:
    """Naive UTC text as SQLite keeps it → an aware UTC datetime (what UTCDateTime reads).

    The text the writers give parses with its zone appended (``fromisoformat``
    gives ``datetime.UTC`` itself for ``+00:00``): a fifth of the cost of
    parsing it naive and calling ``replace``; other text goes that way.
    """
    if isinstance(value, str):
        if len(value) == _STORED_LENGTH:
            return _fromisoformat(value + "+00:00")
        return _fromisoformat(value).replace(tzinfo=UTC)
    return UTCDateTime().process_result_value(value, None)


def _writer(compiled: _Compiled) -> Callable[[dict[str, Any]], Any]:
    """A function giving :meth:`_Compiled.general_params`'s parameters, written out.

    The plan becomes one expression: ``values["key"]`` for a plain bind, the
    literal for a literal, a memoised conversion for a typed one, so a call
    costs the picks alone. Tests compare both on every fixed statement.
    """
    names: dict[str, Any] = {"_memo": _Compiled._memo, "_convert": _convert}
    parts = []
    for i, (key, given, literal, proc, kind) in enumerate(compiled.plan):
        value = f"values[{key!r}]" if given else f"_l{i}"
        if not given:
            names[f"_l{i}"] = literal
        if proc is not None:
            names[f"_p{i}"], names[f"_k{i}"] = proc, kind
            # the memo's hit inline (a call saved per bind); a miss, None or a falsy
            # converted value go through _convert, which gives the same
            value = f"(_memo.get((_k{i}, {value})) or _convert(_p{i}, _k{i}, {value}))"
        parts.append(f"{key!r}: {value}" if compiled.named else value)
    body = "{" + ", ".join(parts) + "}" if compiled.named else "[" + ", ".join(parts) + "]"
    exec(f"def params(values):\n    return {body}\n", names)  # our own plan, no input text
    return names["params"]


def _convert(proc: Callable[[Any], Any], kind: Any, value: Any) -> Any:
    """``proc(value)``, remembered by (type, value): a step binds its one ``now`` often."""
    if value is None:
        return None
    memo = _Compiled._memo
    done = memo.get((kind, value), _MISSING)
    if done is _MISSING:
        if len(memo) > 64:
            memo.clear()
        done = memo[(kind, value)] = proc(value)
    return done


class Fixed:
    """A statement built once; :meth:`run` executes it on the step's connection."""

    def __init__(self, stmt: ClauseElement, *, by_keys: bool = False) -> None:
        self.stmt = stmt
        #: inserts and updates compile per set of given columns (the SET / VALUES list)
        self.by_keys = by_keys
        self._cache: dict[tuple[str, tuple[str, ...] | None], _Compiled] = {}

    def _compiled(self, conn: Any, keys: Iterable[str]) -> _Compiled:
        dialect = conn.dialect
        # Keyed by the keys in the caller's order (a step builds its dicts the same
        # way each time): no sort per call; each order compiles once, sorted.
        key = tuple(keys) if self.by_keys else None
        found = self._cache.get((dialect.name, key))
        if found is None:
            columns = tuple(sorted(key)) if key is not None else None
            found = self._cache[(dialect.name, key)] = _Compiled(self.stmt, dialect, columns)
        return found

    @staticmethod
    def _cursor(conn: Any) -> Any:
        return conn.connection.dbapi_connection.cursor()

    def run(self, conn: Any, values: dict[str, Any]) -> Any:
        """Execute with ``values``; returns the DBAPI cursor (rowcount, fetch)."""
        compiled = self._compiled(conn, values)
        cursor = self._cursor(conn)
        COUNTER["statements"] += 1
        cursor.execute(compiled.sql, compiled.params(values))
        return cursor

    def run_many(self, conn: Any, rows: Sequence[dict[str, Any]]) -> None:
        """One ``executemany`` for rows that all give the same keys."""
        if not rows:
            return
        compiled = self._compiled(conn, rows[0])
        COUNTER["statements"] += 1
        self._cursor(conn).executemany(compiled.sql, [compiled.params(r) for r in rows])

    def rows(self, conn: Any, values: dict[str, Any]) -> list[dict[str, Any]]:
        """The result rows as dicts, converted by the column types.

        Each row is built by a function written for the statement (see
        :func:`_layout`): an inbox reads thousands of rows. Tests compare it
        with the loop over the columns it replaces (``tests/flows/defs.py``).
        """
        compiled = self._compiled(conn, values)
        cursor = self._cursor(conn)
        COUNTER["statements"] += 1
        cursor.execute(compiled.sql, compiled.params(values))
        read = _layout_of(compiled, ())
        return [read(raw) for raw in cursor.fetchall()]

    def first(self, conn: Any, values: dict[str, Any]) -> dict[str, Any] | None:
        found = self.rows(conn, values)
        return found[0] if found else None

    def first_parts(
        self, conn: Any, values: dict[str, Any], prefixes: tuple[str, ...]
    ) -> list[dict[str, Any]] | None:
        """The first row split by column-name prefix: ``[rest, <prefix 1>, ...]``, names unprefixed.

        What :meth:`first` gives, then a dict per prefix built by popping its
        columns (a joined read of a task, its instance and its token): the
        split is worked out once per statement, so a call costs the picks.
        """
        compiled = self._compiled(conn, values)
        cursor = self._cursor(conn)
        COUNTER["statements"] += 1
        cursor.execute(compiled.sql, compiled.params(values))
        raw = cursor.fetchone()
        if raw is None:
            return None
        return _layout_of(compiled, prefixes)(raw)

    def insert_id(self, conn: Any, values: dict[str, Any]) -> int:
        """Run an ``INSERT ... RETURNING id`` and give the new id."""
        return int(self.run(conn, values).fetchone()[0])


__all__ = ["COUNTER", "Fixed"]

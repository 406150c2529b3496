"""A batch's creation audit rows written by one SQL statement that reads the new rows (SQLite).

A creation's entry is ``{"after": <the record's audit view>, "before": {}}``
(``RecordCodec.audit_created``). Written from Python, every record costs a
JSON text and a driver parameter set, about a third of a bulk insert's CPU.
Right after the batch's INSERT the same values sit in the table, so on SQLite
one ``INSERT INTO ts_audit ... SELECT ... json_object(...) FROM <table>``
builds every entry in SQLite's C code from the stored columns.

The statement must give the same JSON value as the Python entry, so it is
used only for entities whose every field has a stored form SQLite can render
back exactly (see :data:`_EXPRESSIONS`); anything else keeps the Python path
(:func:`plan` returns None). Per type:

- text types, integers, references: the column itself;
- booleans (stored 0/1): ``json('true')`` / ``json('false')``;
- dates (stored ``YYYY-MM-DD``): the column, the text orjson writes;
- UTC datetimes (stored ``YYYY-MM-DD HH:MM:SS.ffffff``): rewritten to
  orjson's ``YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00``;
- multi-select and tags (a JSON column): ``json(column)``;
- decimals, currency, percent: SQLite keeps them as floating point, which
  loses the text (``12.50``), so their entry values travel in the statement's
  one bound parameter, as the Python entry writes them (``str`` of the
  ``Decimal``).

Only the keys the record holds appear (owner and team always; a field left
out is absent, an explicit null is ``null``): a record missing some of the
entity's keys carries a merge patch (``{"phone": null}``) that
``json_patch`` applies, which removes exactly those keys.

The one parameter is a JSON array with one small array per record
(``[id, decimal texts..., patch?]``); the rows are written in the batch's
order. Every value is bound; the SQL text is built from quoted identifiers
and constants only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Table
from sqlalchemy.engine import Connection

#: Switch for measuring (bench A/B) and for tests comparing both paths; on by default.
ENABLED = True

#: The audit columns every entry of a batch shares, in the statement's parameter order.
_SHARED = ("at", "actor", "entity", "action", "version")

_cache: dict[tuple[int, int, str], tuple[Any, Any, CreatedAuditSQL | None]] = {}
_lock = threading.Lock()


def _column(c: str) -> str:
    return c


def _boolean(c: str) -> str:
    return f"CASE {c} WHEN 1 THEN json('true') WHEN 0 THEN json('false') END"


def _datetime(c: str) -> str:
    # Stored as "YYYY-MM-DD HH:MM:SS.ffffff"; orjson leaves out a zero fraction.
    return f"replace(replace({c}, '.000000', ''), ' ', 'T') || '+00:00'"


def _json(c: str) -> str:
    return f"json({c})"


def _expressions() -> dict[type, Callable[[str], str] | None]:
    """Field type class → SQL rendering of its stored column; None: a bound value."""
    from engine.forms import builtin_types as b

    out: dict[type, Callable[[str], str] | None] = {}
    for kind in (b.Text_, b.LongText, b.RichText, b.Email, b.Phone, b.Url, b.Select, b.User):
        out[kind] = _column
    out[b.Autonumber] = _column
    out[b.Integer_] = _column
    out[b.Reference] = _column
    out[b.Boolean_] = _boolean
    out[b.Date_] = _column
    out[b.DateTime_] = _datetime
    out[b.MultiSelect] = _json
    out[b.Tags] = _json
    for kind in (b.Decimal_, b.Currency, b.Percent):
        out[kind] = None
    return out


_EXPRESSIONS: dict[type, Callable[[str], str] | None] | None = None


class CreatedAuditSQL:
    """The statements and parameter builder of one entity model on one live table."""

    def __init__(
        self,
        statement: Callable[[frozenset[int]], str],
        elements: Callable[[list[dict[str, Any]]], tuple[bytes, set[int]] | None],
        view_keys: tuple[str, ...],
    ) -> None:
        #: the INSERT for a batch whose short records have these shapes (see ``_build``)
        self.statement = statement
        #: the statement's JSON parameter and the shapes of its short records, or None
        self.elements = elements
        self.view_keys = view_keys
        self._statements: dict[frozenset[int], str] = {}

    def write(
        self, conn: Connection, shared: tuple[Any, ...], records: list[dict[str, Any]]
    ) -> bool:
        """Insert the entries of ``records`` (already in the table); ``shared`` are the
        driver values of at, actor, entity, action and version, in that order.

        False, writing nothing, when a record holds what the statement does not
        render (ids out of one ascending run, a decimal field holding no
        ``Decimal``): the caller then writes the entries from Python.
        """
        found = self.elements(records) if records else None
        if found is None:
            return False
        elements, shapes = found
        key = frozenset(shapes)
        sql = self._statements.get(key)
        if sql is None:
            if len(self._statements) > 100:
                self._statements.clear()
            sql = self._statements[key] = self.statement(key)
        conn.exec_driver_sql(sql, (*shared, elements.decode(), records[0]["id"]))
        return True


def plan(conn: Connection, model: Any, table: Table) -> CreatedAuditSQL | None:
    """The cached :class:`CreatedAuditSQL` of ``model`` on ``table``, or None (Python path)."""
    if not ENABLED or conn.dialect.name != "sqlite":
        return None
    key = (id(model), id(table), conn.dialect.name)
    found = _cache.get(key)
    if found is not None and found[0] is model and found[1] is table:
        return found[2]
    built = _build(conn, model, table)
    with _lock:
        if len(_cache) > 200:
            _cache.clear()
        _cache[key] = (model, table, built)
    return built


def _build(conn: Connection, model: Any, table: Table) -> CreatedAuditSQL | None:
    global _EXPRESSIONS
    if _EXPRESSIONS is None:
        _EXPRESSIONS = _expressions()
    from decimal import Decimal

    quote = conn.dialect.identifier_preparer.quote
    columns: list[tuple[str, str | None]] = []  # (key, SQL of its stored column or None: bound)
    for key in ("owner", "team"):
        if key not in table.c:
            return None
        columns.append((key, "t." + quote(table.c[key].name)))
    for key, (f, _, _) in model.converters.items():
        if f.child is not None or not f.stored or f.removed or f.computed:
            return None
        kind = type(f.type)
        column = table.c.get(f.column)
        if kind not in _EXPRESSIONS or not _plain_key(key) or column is None:
            return None
        render = _EXPRESSIONS[kind]
        columns.append((key, None if render is None else render("t." + quote(column.name))))
    if "id" not in table.c:
        return None
    bound = [k for k, sql in columns if sql is None]
    view_keys = tuple(k for k, _ in columns)
    # A record's element: its bound values (a scalar when there is one, else an array),
    # or, for a record without some of the keys, {"s": its shape, "v": [values...]}.
    if len(bound) == 1:
        usual = {bound[0]: "j.value"}
    else:
        usual = {k: f"(j.value ->> '$[{i}]')" for i, k in enumerate(bound)}
    short = {k: f"(j.value ->> '$.v[{i}]')" for i, k in enumerate(bound)}
    shapes = _Shapes()

    def entry(values: dict[str, str], missing: frozenset[str] = frozenset()) -> str:
        # Sorted keys, as the Python entry (orjson with sorted keys): the same text too.
        pairs = sorted((k, values.get(k) or sql) for k, sql in columns if k not in missing)
        return "json_object(" + ", ".join(f"'{k}', {sql}" for k, sql in pairs) + ")"

    from engine.store.system import audit_log

    head = ", ".join(quote(audit_log.c[k].name) for k in (*_SHARED, "record_id", "changes"))

    def statement(used: frozenset[int]) -> str:
        """The INSERT for a batch whose short records have the shapes ``used``."""
        changes = entry(usual)
        if used:
            branches = " ".join(
                f"WHEN {i} THEN {entry(short, shapes.missing(i))}" for i in sorted(used)
            )
            changes = f"CASE j.type WHEN 'object' THEN CASE j.value ->> '$.s' {branches} END ELSE {changes} END"
        # The ids of a batch are one ascending run (one block from the id source;
        # elements() checks), so the i-th element is the row ``first id + i``, read by
        # its primary key. CROSS JOIN keeps json_each the outer loop: the entries are
        # written in the batch's order.
        return (
            f"INSERT INTO {quote(audit_log.name)} ({head}) "
            f"SELECT ?, ?, ?, ?, ?, t.id, '{{\"after\":' || {changes} || ',\"before\":{{}}}}' "
            f"FROM json_each(?) AS j CROSS JOIN {quote(table.name)} AS t ON t.id = ? + j.key"
        )

    namespace: dict[str, Any] = {
        "DUMPS": orjson.dumps,
        "DECIMAL": Decimal,
        "VIEW_KEYS": frozenset(view_keys),
        "SHAPE": shapes.number,
    }
    lines = [
        "def elements(records):",
        "    out = []",
        "    append = out.append",
        "    used = set()",
        '    n = records[0]["id"]',
        "    if n.__class__ is not int:",
        "        return None",
        "    for r in records:",
        '        if r["id"] != n:',
        "            return None",
        "        n += 1",
    ]
    values = []
    for i, key in enumerate(bound):
        # An entry shows a Decimal as its text; any other value (none is expected) is
        # left to the Python path, which writes it as orjson does.
        lines += [
            f"        v{i} = r.get({key!r})",
            f"        if v{i}.__class__ is DECIMAL:",
            f"            v{i} = str(v{i})",
            f"        elif v{i} is not None:",
            "            return None",
        ]
        values.append(f"v{i}")
    element = {0: "0", 1: "".join(values)}.get(len(values), "[" + ", ".join(values) + "]")
    lines += [
        "        if r.keys() >= VIEW_KEYS:",
        f"            append({element})",
        "        else:",
        "            s = SHAPE(VIEW_KEYS.difference(r))",
        "            if s is None:",
        "                return None",
        "            used.add(s)",
        f"            append({{'s': s, 'v': [{', '.join(values)}]}})",
        "    return DUMPS(out), used",
    ]
    exec(compile("\n".join(lines), f"<created audit {model.name}>", "exec"), namespace)
    return CreatedAuditSQL(statement, namespace["elements"], view_keys)


#: Distinct sets of left-out keys one plan numbers; a batch's statement has a branch for each.
_MAX_SHAPES = 256


class _Shapes:
    """Numbers for the sets of keys short records leave out, given once per set."""

    def __init__(self) -> None:
        self._numbers: dict[frozenset[str], int] = {}
        self._sets: list[frozenset[str]] = []

    def number(self, missing: frozenset[str]) -> int | None:
        """The set's number; None past :data:`_MAX_SHAPES` sets (the Python path then)."""
        found = self._numbers.get(missing)
        if found is None:
            if len(self._sets) >= _MAX_SHAPES:
                return None
            found = self._numbers[missing] = len(self._sets)
            self._sets.append(missing)
        return found

    def missing(self, number: int) -> frozenset[str]:
        return self._sets[number]


def _plain_key(key: str) -> bool:
    """A key safe inside a SQL string literal and a JSON path (field keys are identifiers)."""
    return key.isidentifier() and key.isascii()


__all__ = ["ENABLED", "CreatedAuditSQL", "plan"]

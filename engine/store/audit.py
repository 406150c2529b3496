"""The audit trail: who changed what, when, before and after, in the write's own transaction."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.engine import Connection

from engine.store.fixed import FixedStatement, execute_driver
from engine.store.system import audit_log


def json_default(value: Any) -> Any:
    """How audit JSON writes the values orjson does not know (see :func:`dumps`)."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot audit a {type(value).__name__}")


def dumps(value: Any) -> str:
    """Deterministic JSON (sorted keys) for audit rows and metadata."""
    return orjson.dumps(value, default=json_default, option=orjson.OPT_SORT_KEYS).decode()


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ, as (before, after) maps of just those fields."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    keys += [k for k in before if k not in after and before[k] is not None]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def audit_rows(
    entity: str,
    action: str,
    actor: str | None,
    at: dt.datetime,
    changes: Iterable[tuple[int, int, dict[str, Any], dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Rows for ``ts_audit``; ``changes`` yields (record id, version, before, after)."""
    return [
        {
            "at": at,
            "actor": actor,
            "entity": entity,
            "record_id": rid,
            "action": action,
            "version": version,
            "changes": dumps({"before": before, "after": after}),
        }
        for rid, version, before, after in changes
    ]


def created_rows(
    entity: str,
    actor: str | None,
    at: dt.datetime,
    records: Iterable[dict[str, Any]],
    document: Callable[[dict[str, Any]], str],
) -> list[dict[str, Any]]:
    """Rows for ``ts_audit`` recording the creation of ``records`` (version 1).

    ``document(record)`` is the entry's JSON text, the model codec's
    ``audit_created``: the same text :func:`audit_rows` writes for
    ``(id, 1, {}, audit_view(record))``, built straight from the record.
    """
    return [_created_row(entity, actor, at, r["id"], "create", document(r)) for r in records]


def _created_row(
    entity: str, actor: str | None, at: dt.datetime, record_id: Any, action: str, changes: str
) -> dict[str, Any]:
    """One creation's audit row (a record's, or a chunk's ``create_batch``): version 1."""
    return {
        "at": at,
        "actor": actor,
        "entity": entity,
        "record_id": record_id,
        "action": action,
        "version": 1,
        "changes": changes,
    }


def write_created(
    conn: Connection,
    entity: str,
    actor: str | None,
    at: dt.datetime,
    records: list[dict[str, Any]],
    document: Callable[[dict[str, Any]], str],
) -> None:
    """Write the audit rows of :func:`created_rows` in one executemany.

    Two records or more, with :data:`BATCH_ROWS` on (the default), are written as
    ``create_batch`` rows instead (:func:`write_created_batches`): the same entries,
    one row per chunk of records. Otherwise: the columns every row shares (when, who, entity, action, version) are
    converted once and only the record id and the entry's text vary, so a
    positional driver gets its tuples without a mapping per row. A driver
    with named parameters, or a column whose value needs a processor, takes
    :func:`write` with the same rows.
    """
    if not records:
        return
    if len(records) == 1:  # an API create: one row, straight to the cursor
        execute_driver(conn, *created_entry(conn, entity, actor, at, records[0], document))
        return
    if BATCH_ROWS:
        write_created_batches(conn, entity, actor, at, records, document)
        return
    from engine.store.bulk import prepared_insert

    prepared = prepared_insert(conn, audit_log, _CREATED_COLUMNS)
    varying = [prepared.order.index(_CREATED_COLUMNS.index(k)) for k in ("record_id", "changes")]
    if not prepared.positional or any(prepared.processors[i] for i in (5, 6)):
        write(conn, created_rows(entity, actor, at, records, document))
        return
    shared = {"at": at, "actor": actor, "entity": entity, "action": "create", "version": 1}
    template = prepared.rows([{**shared, "record_id": 0, "changes": ""}])[0]
    i, j = varying
    head, middle, tail = template[:i], template[i + 1 : j], template[j + 1 :]
    if i < j:
        params = [(*head, r["id"], *middle, document(r), *tail) for r in records]
    else:
        head, middle, tail = template[:j], template[j + 1 : i], template[i + 1 :]
        params = [(*head, document(r), *middle, r["id"], *tail) for r in records]
    conn.exec_driver_sql(prepared.sql, params)


#: Whether a batch's creations are written as ``create_batch`` rows (one per chunk of
#: records) instead of one row per record. Kept switchable for the tests that prove
#: the readers give the same answers either way, and for the bench's A/B.
BATCH_ROWS = True

#: The most records one ``create_batch`` row holds, and the span of their ids: every id
#: of a row lies in ``[record_id, record_id + CHUNK)`` (ids are unique integers, so such
#: a run holds at most CHUNK of them), so the rows that may hold id X are found on
#: ``ix_audit_record`` by ``record_id BETWEEN X - CHUNK + 1 AND X``. Part of the stored
#: format: a smaller value would leave :func:`history` blind to existing rows.
#: Measured (20,000 leads, batches of 5,000, load 10): 32, 64 and 128 write alike
#: (about 6-8 CPU µs a record less than a row per record), 16 less well, 256 worse
#: (100 KB texts); a history() read parses the whole row, about 1.3 ms with 64 against
#: 1.0 for a row per record and 1.9 with 128.
CHUNK = 64

#: The action of a row holding the creation entries of several records.
BATCH_ACTION = "create_batch"

# A creation entry's text as the codec's ``audit_created`` lays it out (see
# engine/forms/record_codec.py): ``{"after":<view>,"before":{}}``; a batch row joins the
# views cut out of it. tests/test_audit_batches.py holds both forms to one history.
_HEAD, _TAIL = len('{"after":'), -len(',"before":{}}')


def batch_chunks(ids: list[Any]) -> list[tuple[int, int]]:
    """``(start, stop)`` slices of ``ids`` for the batch rows: every id in
    ``[first, first + CHUNK)``, so at most :data:`CHUNK` records each (ascending runs
    of the allocator fill whole chunks; ids given out of order split them)."""
    out = []
    start, n = 0, len(ids)
    while start < n:
        first = ids[start]
        stop = start + 1
        while stop < n and first <= ids[stop] < first + CHUNK:
            stop += 1
        out.append((start, stop))
        start = stop
    return out


def write_created_batches(
    conn: Connection,
    entity: str,
    actor: str | None,
    at: dt.datetime,
    records: list[dict[str, Any]],
    document: Callable[[dict[str, Any]], str],
) -> None:
    """Write the creation entries of ``records`` as ``create_batch`` rows.

    Each row's ``changes`` is ``{"after": [entry, ...], "before": {}, "ids": [...]}``
    where entry i is the ``after`` that :func:`created_rows` writes for record
    ``ids[i]`` (the same JSON text, cut out of ``document``'s). One row per chunk
    instead of one per record: the per-row INSERT, its index entry and its driver
    parameters were a fifth of ``create_many``'s database work.
    """
    ids = [r["id"] for r in records]
    if not all(i.__class__ is int for i in ids):  # ids of a type the readers do not range over
        write(conn, created_rows(entity, actor, at, records, document))
        return
    rows = []
    for start, stop in batch_chunks(ids):
        chunk = ids[start:stop]
        text = (
            '{"after":['
            + ",".join([document(r)[_HEAD:_TAIL] for r in records[start:stop]])
            + '],"before":{},"ids":'
            + orjson.dumps(chunk).decode()
            + "}"
        )
        rows.append(_created_row(entity, actor, at, chunk[0], BATCH_ACTION, text))
    write(conn, rows)


#: The audit columns a creation writes; record_id and changes (the last two) vary per row.
_CREATED_COLUMNS = ("at", "actor", "entity", "action", "version", "record_id", "changes")

#: One creation's audit row. Its bind names (``audit_*``) differ from a record
#: INSERT's (``p_*``), so both can share one statement (see :func:`created_entry`).
_CREATED_ONE = FixedStatement(
    insert(audit_log).values({k: bindparam(f"audit_{k}") for k in _CREATED_COLUMNS})
)


def created_entry_of(record_id: Any) -> Any:
    """The INSERT of one creation's audit row taking its record id from ``record_id``
    (the id column of a CTE that inserted the record); the other values are bound
    under :func:`created_entry`'s names, so its parameters fit this statement too."""
    return insert(audit_log).from_select(
        list(_CREATED_COLUMNS),
        select(
            *(
                record_id
                if k == "record_id"
                else bindparam(f"audit_{k}", type_=audit_log.c[k].type)
                for k in _CREATED_COLUMNS
            )
        ),
    )


def created_entry(
    conn: Connection,
    entity: str,
    actor: str | None,
    at: dt.datetime,
    record: dict[str, Any],
    document: Callable[[dict[str, Any]], str],
) -> tuple[str, Any]:
    """The SQL and driver parameters of one creation's audit row (:func:`created_rows`).

    Sent alone by :func:`write_created`; on PostgreSQL the single-record create
    sends it in the same statement as the record's INSERT (one round trip fewer).
    """
    (row,) = created_rows(entity, actor, at, [record], document)
    compiled = _CREATED_ONE.compiled(conn)
    return compiled.sql, compiled.params({f"audit_{k}": v for k, v in row.items()})


def write(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        from engine.store.bulk import bulk_insert

        bulk_insert(conn, audit_log, rows)


def history(conn: Connection, entity: str, record_id: int) -> list[dict[str, Any]]:
    """The record's audit entries, oldest first.

    A record created by a batch has its creation entry inside a ``create_batch``
    row (see :func:`write_created_batches`): the rows that may hold it have a
    ``record_id`` in ``(record_id - CHUNK, record_id]``, read on ``ix_audit_record``
    with the record's own rows, and its entry comes out as the dict a row of its
    own gives. The batch row was written with the record, before any other entry
    of it, so the audit id's order is the record's order either way.
    """
    c = audit_log.c
    if isinstance(record_id, int) and not isinstance(record_id, bool):
        where = [
            c.entity == entity,
            c.record_id.between(record_id - CHUNK + 1, record_id),
            or_(c.record_id == record_id, c.action == BATCH_ACTION),
        ]
    else:  # not an id a batch row can hold (the caller's own type): its rows only
        where = [c.entity == entity, c.record_id == record_id]
    result = conn.execute(select(audit_log).where(*where).order_by(c.id))
    out = []
    for row in result.mappings():
        changes = orjson.loads(row["changes"])
        action = row["action"]
        if action == BATCH_ACTION:
            try:
                after = changes["after"][changes["ids"].index(record_id)]
            except ValueError:  # a neighbour's batch row without this record
                continue
            action = "create"
        else:
            after = changes["after"]
        out.append(
            {
                "at": row["at"],
                "user": row["actor"],
                "action": action,
                "version": row["version"],
                "before": changes["before"],
                "after": after,
            }
        )
    return out

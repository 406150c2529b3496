"""Rule stamps: which version of which rule set last scored, graded, filled or routed a record.

Kept in ``ts_rule_stamp`` beside the entity tables (see ``engine.store.system``
for why a side table): one row per (entity, record, rule set), replaced when
a different version or a different routing rule acts on the record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, delete, insert, or_, select
from sqlalchemy.engine import Connection

from engine.store.fixed import FixedStatement
from engine.store.system import rule_stamps


class Stamp(NamedTuple):
    record_id: int
    ruleset: str
    version: int
    rule: str | None


#: One record's stamps (a save of one record, the common case), built once: through
#: ``Connection.execute`` an ``IN`` list is rendered anew on every call.
_ONE_RECORD = FixedStatement(
    select(rule_stamps).where(
        rule_stamps.c.entity == bindparam("entity"),
        rule_stamps.c.record_id == bindparam("record_id"),
    )
)


def read(conn: Connection, entity: str, record_ids: Iterable[int]) -> dict[int, dict[str, Stamp]]:
    """The stamps of some records: record id → rule set → stamp."""
    ids = list(record_ids)
    out: dict[int, dict[str, Stamp]] = {i: {} for i in ids}
    if not ids:
        return out
    if len(ids) == 1:
        rows: Any = _ONE_RECORD.mappings(conn, {"entity": entity, "record_id": ids[0]})
    else:
        rows = conn.execute(
            select(rule_stamps).where(
                rule_stamps.c.entity == entity, rule_stamps.c.record_id.in_(ids)
            )
        ).mappings()
    for r in rows:
        out[r["record_id"]][r["ruleset"]] = Stamp(
            r["record_id"], r["ruleset"], r["version"], r["rule"]
        )
    return out


def write(
    conn: Connection,
    entity: str,
    stamps: list[Stamp],
    existing: dict[int, dict[str, Stamp]],
    now: dt.datetime,
) -> None:
    """Store the stamps that differ from ``existing`` (replace, or insert when new)."""
    changed = [s for s in stamps if existing.get(s.record_id, {}).get(s.ruleset) != s]
    if not changed:
        return
    replaced = [s for s in changed if s.ruleset in existing.get(s.record_id, {})]
    if replaced:
        conn.execute(
            delete(rule_stamps).where(
                rule_stamps.c.entity == entity,
                or_(
                    *(
                        and_(
                            rule_stamps.c.record_id == s.record_id,
                            rule_stamps.c.ruleset == s.ruleset,
                        )
                        for s in replaced
                    )
                ),
            )
        )
    rows: list[dict[str, Any]] = [
        {
            "entity": entity,
            "record_id": s.record_id,
            "ruleset": s.ruleset,
            "version": s.version,
            "rule": s.rule,
            "stamped_on": now,
        }
        for s in changed
    ]
    conn.execute(insert(rule_stamps), rows)


def forget(conn: Connection, entity: str, record_ids: list[int]) -> None:
    """Drop the stamps of deleted records."""
    conn.execute(
        delete(rule_stamps).where(
            rule_stamps.c.entity == entity, rule_stamps.c.record_id.in_(record_ids)
        )
    )


__all__ = ["Stamp", "forget", "read", "write"]

"""Per-entity data versions: a counter each committed write to an entity bumps once.

Caches of derived figures (report results) key themselves on the versions of
the entities they read, so a write invalidates exactly what it affects, in
every process sharing the database. A write only *marks* its entity on the
open connection (:func:`touch`, no SQL); :meth:`engine.store.db.Database.transaction`
calls :func:`flush` just before the commit, which bumps each marked entity
with one statement, in name order so two writers never deadlock. A write
that rolls back bumps nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import BigInteger, Column, String, Table, bindparam, select, update
from sqlalchemy.engine import Connection

from engine.store.fixed import FixedStatement
from engine.store.system import system_metadata

data_versions = Table(
    "ts_data_version",
    system_metadata,
    Column("entity", String(128), primary_key=True),
    Column("version", BigInteger, nullable=False),
)

_TOUCHED = "tessera_touched_entities"

#: The bump every committed write sends: built and compiled once, run on the cursor.
_BUMP = FixedStatement(
    update(data_versions)
    .where(data_versions.c.entity == bindparam("entity"))
    .values(version=data_versions.c.version + 1)
)


def touch(conn: Connection, entity: str) -> None:
    """Mark ``entity`` as written in this transaction (bumped once, at commit)."""
    conn.info.setdefault(_TOUCHED, set()).add(entity)


def flush(conn: Connection) -> None:
    """Bump every entity marked on ``conn``: one statement per entity, then forget them."""
    touched = conn.info.pop(_TOUCHED, None)
    if not touched:
        return
    for entity in sorted(touched):
        bumped = _BUMP.execute(conn, {"entity": entity})
        if bumped.rowcount == 0:  # the entity's first write ever: rare, so two statements
            from engine.store.db import upsert

            conn.execute(
                upsert(
                    conn,
                    data_versions,
                    {"entity": entity, "version": 1},
                    "entity",
                    {"version": data_versions.c.version + 1},
                )
            )


def discard(conn: Connection) -> None:
    """Forget the marks of a transaction that rolls back."""
    conn.info.pop(_TOUCHED, None)


def current(conn: Connection, entities: Iterable[str]) -> dict[str, int]:
    """The data version of each of ``entities`` (0 for one never written)."""
    names = sorted(set(entities))
    rows = conn.execute(
        select(data_versions.c.entity, data_versions.c.version).where(
            data_versions.c.entity.in_(names)
        )
    )
    found = {r.entity: int(r.version) for r in rows}
    return {n: found.get(n, 0) for n in names}


__all__ = ["current", "data_versions", "discard", "flush", "touch"]

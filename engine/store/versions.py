"""Per-entity data versions: a counter each committed write to an entity bumps once.

Caches of derived figures (report results) key themselves on the versions of
the entities they read, so a write invalidates exactly what it affects, in
every process sharing the database. A write only *marks* its entity on the
open connection (:func:`touch`, no SQL); :meth:`engine.store.db.Database.transaction`
calls :func:`flush` just before the commit, which bumps each marked entity
with one statement, in name order so two writers never deadlock. A write
that rolls back bumps nothing.

Every write to an entity updates that entity's one row, so the row's lock
orders all its writers: it is held from the bump to the end of the COMMIT. Sent
as two round trips, that hold includes the writer's trip back to Python (and,
in a busy server, its wait for the GIL) between the bump's answer and the
COMMIT, and every other writer of the entity queues behind it: bench_load.py
saw a dozen creates waiting on that lock at any moment at 200 clients. On
PostgreSQL :func:`flush` with ``commit=True`` therefore sends the bumps and the
COMMIT together (psycopg's pipeline mode): the lock is then held for the
server's own work only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    String,
    Table,
    bindparam,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from engine.store.fixed import FixedStatement
from engine.store.system import system_metadata
from engine.store.upsert import upsert

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


def bump_or_create(entity: Any) -> Any:
    """PostgreSQL's bump of ``entity`` (a bound parameter) that creates its row on the
    entity's first write, in the same statement: for a pipeline, where no row count can
    be read before the COMMIT, and for the lone create's one statement (a CTE of it)."""
    one = literal_column("1")
    return (
        postgresql.insert(data_versions)
        .values(entity=entity, version=one)
        .on_conflict_do_update(
            index_elements=[data_versions.c.entity],
            set_={"version": data_versions.c.version + one},
        )
    )


_BUMP_OR_CREATE = FixedStatement(bump_or_create(bindparam("entity")))


def touch(conn: Connection, entity: str) -> None:
    """Mark ``entity`` as written in this transaction (bumped once, at commit)."""
    conn.info.setdefault(_TOUCHED, set()).add(entity)


def flush(conn: Connection, *, commit: bool = False) -> None:
    """Bump every entity marked on ``conn``: one statement per entity, then forget them.

    With ``commit`` on a psycopg connection, the bumps and the COMMIT go to the
    server in one round trip and the transaction is over on return (SQLAlchemy's
    own commit then finds nothing to do); elsewhere ``commit`` changes nothing
    and the caller commits.
    """
    touched = conn.info.pop(_TOUCHED, None)
    if not touched:
        return
    if commit and _commit_in_pipeline(conn, sorted(touched)):
        return
    for entity in sorted(touched):
        bumped = _BUMP.execute(conn, {"entity": entity})
        if bumped.rowcount == 0:  # the entity's first write ever: rare, so two statements
            conn.execute(
                upsert(
                    conn,
                    data_versions,
                    {"entity": entity, "version": 1},
                    "entity",
                    {"version": data_versions.c.version + 1},
                )
            )


def _commit_in_pipeline(conn: Connection, entities: list[str]) -> bool:
    """psycopg: the bumps and the COMMIT sent at once; False on any other driver."""
    if conn.dialect.driver != "psycopg" or not _libpq_pipelines():
        return False
    driver = conn.connection.dbapi_connection
    dbapi = conn.dialect.loaded_dbapi
    try:
        with driver.pipeline():
            for entity in entities:
                _BUMP_OR_CREATE.execute(conn, {"entity": entity})
            driver.cursor().execute("COMMIT")
    except dbapi.Error as exc:  # wrapped as SQLAlchemy wraps a failed statement or commit
        # the pipeline cannot tell which part failed: name all of them
        sent = f"{_BUMP_OR_CREATE.compiled(conn).sql} for {', '.join(entities)}; COMMIT"
        raise DBAPIError.instance(sent, None, exc, dbapi.Error) from exc
    return True


@functools.cache
def _libpq_pipelines() -> bool:
    """Whether psycopg's libpq has pipeline mode (libpq 14 and later)."""
    import psycopg

    return psycopg.Pipeline.is_supported()


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

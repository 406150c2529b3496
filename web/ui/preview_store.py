"""Short-lived preview scripts: the designer posts its draft, gets an id, loads the script by it.

The page's CSP loads scripts only by URL from this site, so the preview's form logic has
to be a GET. Carrying the draft in that URL passes gunicorn's 4 KB request-line limit
for a big entity under ``tessera serve --workers``; so the draft goes in a POST, the
compiled script waits in the database (shared by every worker process) under a random
id, for its author only, and expires after :data:`TTL`. The table sits on its own
metadata: it is a cache, not data a backup or an export should carry.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import Column, Index, MetaData, String, Table, Text, delete, insert, select

from engine.store.types import UTCDateTime

#: how long a preview script may be fetched after its draft was posted
TTL = dt.timedelta(minutes=10)

preview_metadata = MetaData()

previews = Table(
    "ts_designer_preview",
    preview_metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("entity", String(64), nullable=False),
    Column("script", Text, nullable=False),
    Column("expires", UTCDateTime, nullable=False),
    Index("ix_ts_designer_preview_expires", "expires"),
)

_ready: set[int] = set()


def _table(p: Any) -> None:
    """Create the table the first time a platform's engine needs it."""
    if id(p.db.engine) not in _ready:
        preview_metadata.create_all(p.db.engine, checkfirst=True)
        _ready.add(id(p.db.engine))


def keep(p: Any, owner: str, entity: str, script: str) -> str:
    """Store ``script`` for ``owner``'s preview of ``entity``; returns its id. Expired
    scripts of every user go at the same time, so the table stays small."""
    _table(p)
    now = p.clock.now()
    key = secrets.token_urlsafe(24)
    with p.db.transaction() as conn:
        conn.execute(delete(previews).where(previews.c.expires < now))
        conn.execute(
            insert(previews).values(
                id=key, owner=owner, entity=entity, script=script, expires=now + TTL
            )
        )
    return key


def fetch(p: Any, owner: str, entity: str, key: str) -> str | None:
    """The script stored under ``key`` if it is ``owner``'s, for ``entity`` and not expired."""
    _table(p)
    query = select(previews.c.script).where(
        previews.c.id == key,
        previews.c.owner == owner,
        previews.c.entity == entity,
        previews.c.expires >= p.clock.now(),
    )
    with p.db.transaction(write=False) as conn:
        return conn.execute(query).scalar_one_or_none()


__all__ = ["TTL", "fetch", "keep"]

"""``INSERT ... ON CONFLICT DO UPDATE`` on the dialects Tessera runs on.

Kept apart from ``engine.store.db`` (the connections and transactions) so
that what the transactions themselves call, such as the data-version bump of
``engine.store.versions``, can build one without importing ``db`` back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def upsert(conn: Connection, table: Table, values: dict[str, Any], key: str, set_: dict) -> Any:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET ...`` on the connection's dialect."""
    stmt = _INSERTS[conn.dialect.name](table).values(**values)
    return stmt.on_conflict_do_update(index_elements=[key], set_=set_)


__all__ = ["upsert"]

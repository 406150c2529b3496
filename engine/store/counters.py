"""Record ids and autonumbers: unique under concurrency, never one lock for every insert.

Ids come from a native sequence where the database has one (PostgreSQL), and
from a counter row otherwise (SQLite, whose writers are serialised anyway).
Autonumber counters are one row per (entity, field, period). On PostgreSQL the
counter is advanced in its own short transaction, so concurrent inserts wait
microseconds for the counter rather than for each other's commits; the price
is a gap when an insert later rolls back (as with any sequence). On SQLite the
counter moves inside the write transaction and numbers have no gaps.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import Sequence, select, text
from sqlalchemy.engine import Connection, Engine

from engine.store.fixed import FixedStatement
from engine.store.system import counters
from engine.store.upsert import upsert

#: ``n`` values of a sequence in one statement (PostgreSQL), compiled once.
_NEXTVAL = FixedStatement(
    text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)")
)


def _advance(conn: Connection, name: str, n: int) -> int:
    """Add ``n`` to counter ``name`` (creating it) and return the new value."""
    stmt = upsert(
        conn, counters, {"name": name, "value": n}, "name", {"value": counters.c.value + n}
    )
    return int(conn.execute(stmt.returning(counters.c.value)).scalar_one())


def sequence_for(table_name: str) -> Sequence:
    return Sequence(f"{table_name}_id_seq")


class IdAllocator:
    """Hands out blocks of ids for a table."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect.name

    def create(self, conn: Connection, table_name: str) -> None:
        """Prepare the id source of a new table (inside the DDL transaction)."""
        if self.dialect == "postgresql":
            sequence_for(table_name).create(conn, checkfirst=True)

    def allocate(self, conn: Connection, table_name: str, n: int) -> list[int]:
        if n <= 0:
            return []
        if self.dialect == "postgresql":
            rows = _NEXTVAL.rows(conn, {"seq": f"{table_name}_id_seq", "n": n})
            return [int(r[0]) for r in rows]
        last = _advance(conn, f"id:{table_name}", n)
        return list(range(last - n + 1, last + 1))


_COUNTER = re.compile(r"\{(#+)\}")


def render_period(pattern: str, when: dt.date) -> str:
    """The pattern with its date tokens filled in: the counter restarts when this changes."""
    return (
        pattern.replace("{YYYY}", f"{when.year:04d}")
        .replace("{YY}", f"{when.year % 100:02d}")
        .replace("{MM}", f"{when.month:02d}")
        .replace("{DD}", f"{when.day:02d}")
    )


class AutonumberSource:
    """Takes numbers for ``x-pattern`` fields."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.autonomous = engine.dialect.name == "postgresql"

    def take(self, conn: Connection, key: str, pattern: str, when: dt.date, n: int) -> list[str]:
        period = render_period(pattern, when)
        name = f"an:{key}:{period}"
        if self.autonomous:
            with self.engine.begin() as own:
                last = _advance(own, name, n)
        else:
            last = _advance(conn, name, n)
        match = _COUNTER.search(period)
        assert match is not None  # the definition check guarantees one counter
        width = len(match.group(1))
        head, tail = period[: match.start()], period[match.end() :]
        return [f"{head}{i:0{width}d}{tail}" for i in range(last - n + 1, last + 1)]

    def current(self, conn: Connection, key: str, pattern: str, when: dt.date) -> int:
        name = f"an:{key}:{render_period(pattern, when)}"
        value = conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar()
        return int(value or 0)

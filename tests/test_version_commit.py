"""The data-version bumps sent with the COMMIT give what the bumps then COMMIT give.

On PostgreSQL with psycopg, ``Database.transaction`` sends the bumps of the
entities a transaction wrote and its COMMIT in one round trip (psycopg's
pipeline mode, see ``engine.store.versions``), so the row lock each bump takes
is never held across a trip back to Python. These tests hold that path to the
general one (one bump per entity, its row count read, then SQLAlchemy's
commit): the same versions after the same writes, nothing committed when the
COMMIT fails and the error wrapped as SQLAlchemy wraps it, the after-commit
callbacks run, and a clean connection for the next transaction.
"""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, event, select, text
from sqlalchemy.exc import IntegrityError

from engine.store import versions
from engine.store.db import Database
from tests.conftest import on_postgres

ENTITIES = ("alpha", "beta", "gamma")


def _current(db: Database) -> dict[str, int]:
    with db.transaction(write=False) as conn:
        return versions.current(conn, ENTITIES)


def _general(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every transaction through the general path (as on SQLite)."""
    monkeypatch.setattr(versions, "_commit_in_pipeline", lambda conn, entities: False)


#: Transactions, each the set of entities it writes (empty: a read-only one).
writes = st.lists(st.sets(st.sampled_from(ENTITIES), max_size=3), max_size=6)


@settings(max_examples=25, deadline=None)
@given(transactions=writes)
def test_the_pipelined_commit_bumps_as_the_general_path(platform, transactions):
    """Any run of transactions leaves the same versions through both paths."""
    db = platform.db
    start = _current(db)
    expected = dict(start)
    for touched in transactions:
        with db.transaction() as conn:
            for entity in touched:
                versions.touch(conn, entity)
        for entity in touched:
            expected[entity] += 1
    assert _current(db) == expected

    with pytest.MonkeyPatch.context() as mp:
        _general(mp)
        for touched in transactions:
            with db.transaction() as conn:
                for entity in touched:
                    versions.touch(conn, entity)
            for entity in touched:
                expected[entity] += 1
        assert _current(db) == expected


def test_a_first_write_creates_the_row_and_later_ones_add_one(platform):
    db = platform.db
    with db.transaction() as conn:
        versions.touch(conn, "alpha")
    assert _current(db)["alpha"] == 1
    with db.transaction() as conn:
        versions.touch(conn, "alpha")
        versions.touch(conn, "beta")
    assert _current(db) == {"alpha": 2, "beta": 1, "gamma": 0}


def test_a_rolled_back_write_bumps_nothing(platform):
    db = platform.db
    with pytest.raises(RuntimeError), db.transaction() as conn:
        versions.touch(conn, "alpha")
        raise RuntimeError("rolled back")
    assert _current(db)["alpha"] == 0


def test_the_data_and_the_bump_commit_together_and_callbacks_run(platform):
    db = platform.db
    table = Table("t_probe", MetaData(), Column("a", Integer, primary_key=True))
    with db.transaction() as conn:
        table.create(conn)
    ran: list[str] = []
    with db.transaction() as conn:
        conn.execute(table.insert().values(a=1))
        versions.touch(conn, "alpha")
        db.after_commit(lambda: ran.append("after"))
    assert ran == ["after"]
    with db.transaction(write=False) as conn:
        assert conn.execute(select(table.c.a)).scalars().all() == [1]
    assert _current(db)["alpha"] == 1


@pytest.mark.postgres_only
def test_the_bumps_and_the_commit_leave_in_one_round_trip(platform):
    """The statements the engine's events see: the bump, and SQLAlchemy's commit event."""
    db = platform.db
    seen: list[str] = []

    def statement(_conn, _cursor, sql, *_rest):
        seen.append(sql.split()[0])

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", lambda _conn: seen.append("COMMIT"))
    try:
        with db.transaction() as conn:
            versions.touch(conn, "beta")
            versions.touch(conn, "alpha")
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
    assert seen == ["INSERT", "INSERT", "COMMIT"]  # upserts in name order, then the commit event


@pytest.mark.postgres_only
def test_a_failed_commit_is_wrapped_and_commits_nothing(platform):
    """A deferred constraint fails at COMMIT: SQLAlchemy's IntegrityError, no row, no bump,
    no after-commit callback, and the connection serves the next transaction."""
    db = platform.db
    with db.transaction() as conn:
        conn.execute(
            text(
                "CREATE TABLE t_deferred (a INTEGER, "
                "CONSTRAINT one_a UNIQUE (a) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    ran: list[str] = []
    with pytest.raises(IntegrityError) as caught, db.transaction() as conn:
        conn.execute(text("INSERT INTO t_deferred VALUES (1), (1)"))
        versions.touch(conn, "alpha")
        db.after_commit(lambda: ran.append("after"))
    assert "one_a" in str(caught.value)
    assert ran == []
    assert _current(db)["alpha"] == 0
    for _ in range(3):  # every pooled connection is clean again
        with db.transaction() as conn:
            assert conn.execute(text("SELECT count(*) FROM t_deferred")).scalar_one() == 0
            versions.touch(conn, "beta")
    assert _current(db)["beta"] == 3


@pytest.mark.postgres_only
def test_a_connection_leaves_pipeline_mode_and_its_transaction(platform):
    db = platform.db
    with db.transaction() as conn:
        versions.touch(conn, "alpha")
        driver = conn.connection.dbapi_connection
    from psycopg import pq

    assert driver.pgconn.pipeline_status == pq.PipelineStatus.OFF
    assert driver.pgconn.transaction_status == pq.TransactionStatus.IDLE


def test_concurrent_writers_each_bump_once(platform):
    """Writers on several threads: every committed write counted, no deadlock between
    transactions that bump several entities (name order)."""
    db = platform.db
    errors: list[BaseException] = []

    def writer(order: tuple[str, ...]) -> None:
        try:
            for _ in range(15):
                with db.transaction() as conn:
                    for entity in order:
                        versions.touch(conn, entity)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(order,))
        for order in (ENTITIES, ENTITIES[::-1], ENTITIES[1:], ENTITIES[:1])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _current(db) == {"alpha": 45, "beta": 45, "gamma": 45}


def test_other_databases_take_the_general_path(platform):
    """``commit=True`` sends nothing special where pipelines do not exist (SQLite)."""
    db = platform.db
    if on_postgres():
        pytest.skip("the general path on PostgreSQL is compared above")
    with db.transaction() as conn:
        assert versions._commit_in_pipeline(conn, ["alpha"]) is False

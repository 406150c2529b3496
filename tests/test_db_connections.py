"""SQLite transactions reuse their connection instead of a pool check-out each time.

``Database.transaction`` keeps a connection whose transaction ended cleanly in
its own list (see ``Database._take``). The reuse must be invisible: a write
still holds the write lock from its first statement, a read does not, a rolled
back write leaves nothing behind, threads never share a connection at once, the
pool is never starved, and ``dispose`` closes every connection.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.store.db import Database


@pytest.fixture
def db(tmp_path: Path):
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.transaction() as conn:
        conn.execute(text("CREATE TABLE t (a INTEGER)"))
    yield database
    database.dispose()


def _locked_for_writers(path: str) -> bool:
    """Whether another connection is refused the write lock right now."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return True
    finally:
        if other.in_transaction:
            other.rollback()
        other.close()
    return False


def test_the_same_connection_serves_the_next_transaction(db):
    with db.transaction() as first:
        raw = first.connection.dbapi_connection
    with db.transaction(write=False) as second:
        assert second.connection.dbapi_connection is raw
    assert db.engine.pool.checkedout() == 1  # kept by us, not a new one per transaction


def test_writes_lock_at_begin_and_reads_do_not_on_a_reused_connection(db):
    path = db.engine.url.database
    for _ in range(2):  # the second round runs on kept connections
        with db.transaction(write=False):
            assert not _locked_for_writers(path)
        with db.transaction():
            assert _locked_for_writers(path)  # BEGIN IMMEDIATE, before any statement
        assert not _locked_for_writers(path)


def test_a_write_that_commits_midway_goes_on_under_the_write_lock(db):
    """The ``begin`` listener knows a kept connection was handed to a write."""
    path = db.engine.url.database
    with db.transaction(write=False):
        pass
    with db.transaction() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        conn.commit()
        conn.execute(text("SELECT 1"))  # SQLAlchemy begins again: BEGIN IMMEDIATE
        assert _locked_for_writers(path)
    with db.transaction(write=False) as conn:
        conn.execute(text("SELECT 1"))
        conn.commit()
        conn.execute(text("SELECT 1"))  # a read begins deferred
        assert not _locked_for_writers(path)


def test_a_rolled_back_write_leaves_a_clean_connection(db):
    with pytest.raises(RuntimeError), db.transaction() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("refused")
    with db.transaction() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
        conn.execute(text("INSERT INTO t VALUES (2)"))
    with db.transaction(write=False) as conn:
        assert conn.execute(text("SELECT a FROM t")).scalars().all() == [2]


def test_threads_never_share_a_connection_and_the_pool_is_not_starved(db):
    """More threads than the pool's own size: each write lands, none waits on the pool."""
    in_use: set[int] = set()
    clash: list[str] = []
    guard = threading.Lock()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(30):
                with db.transaction(write=i % 3 != 0) as conn:
                    key = id(conn.connection.dbapi_connection)
                    with guard:
                        if key in in_use:
                            clash.append(f"thread {n}")
                        in_use.add(key)
                    if i % 3:
                        conn.execute(text("INSERT INTO t VALUES (:a)"), {"a": n})
                    else:
                        conn.execute(text("SELECT count(*) FROM t")).scalar()
                    with guard:
                        in_use.discard(key)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not clash
    with db.transaction(write=False) as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 12 * 20
    pool = db.engine.pool
    assert pool.checkedout() <= pool.size()  # kept ones stay within the pool's size


def test_dispose_closes_kept_connections_and_refuses_those_in_use(db):
    gate, done = threading.Event(), threading.Event()

    def hold() -> None:
        with db.transaction(write=False):
            gate.set()
            done.wait(30)

    t = threading.Thread(target=hold)
    t.start()
    assert gate.wait(30)
    with db.transaction() as conn:  # another connection than the thread's, kept after
        raw = conn.connection.dbapi_connection
    assert len(db._idle) == 1
    db.dispose()
    with pytest.raises(sqlite3.ProgrammingError):
        raw.execute("SELECT 1")  # the kept one was closed
    done.set()
    t.join(30)
    assert db._idle == []  # the one in use during dispose went back, not kept
    with db.transaction() as conn:  # the database opens again on demand
        conn.execute(text("INSERT INTO t VALUES (3)"))
    with db.transaction(write=False) as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1


def test_an_in_memory_database_keeps_its_one_connection():
    database = Database("sqlite://")
    with database.transaction() as conn:
        conn.execute(text("CREATE TABLE t (a INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with database.transaction(write=False) as conn:
        assert conn.execute(text("SELECT a FROM t")).scalar() == 1
    database.dispose()


def _checkout_take(self: Database, write: bool):
    """The general path: a pool check-out per transaction, as before connections were kept."""
    return (self._write_engine if write else self.engine).connect(), self._generation


def _checkin(self: Database, conn, generation: int) -> None:
    conn.close()


def _script(db: Database) -> tuple[list[int], list[str]]:
    """Writes, a refused write, savepoints and after-commit callbacks; what each leaves."""
    done: list[str] = []
    with db.transaction() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        db.after_commit(lambda: done.append("one"))
    with pytest.raises(ValueError), db.transaction() as conn:
        conn.execute(text("INSERT INTO t VALUES (2)"))
        db.after_commit(lambda: done.append("never"))
        raise ValueError("refused")
    with db.transaction() as conn:
        with pytest.raises(KeyError), db.savepoint():
            conn.execute(text("INSERT INTO t VALUES (3)"))
            db.after_commit(lambda: done.append("undone"))
            raise KeyError("one record refused")
        with db.savepoint():
            conn.execute(text("INSERT INTO t VALUES (4)"))
            db.after_commit(lambda: done.append("kept"))
        with db.transaction(write=False) as joined:  # joins: the same connection
            assert joined is conn
            joined.execute(text("INSERT INTO t VALUES (5)"))

        def follow_up() -> None:  # a callback that writes opens its own transaction
            with db.transaction() as later:
                later.execute(text("INSERT INTO t VALUES (6)"))
            done.append("follow-up")

        db.after_commit(follow_up)
    with db.read_once() as conn:
        rows = conn.execute(text("SELECT a FROM t ORDER BY a")).scalars().all()
    return rows, done


def test_kept_connections_leave_what_the_pool_check_out_leaves(tmp_path: Path, monkeypatch):
    """The fast path against the general one, on the same script."""
    results = []
    for name, kept in (("kept", True), ("pool", False)):
        with monkeypatch.context() as m:
            if not kept:
                m.setattr(Database, "_take", _checkout_take)
                m.setattr(Database, "_give_back", _checkin)
            database = Database(f"sqlite:///{tmp_path / name}.db")
            with database.transaction() as conn:
                conn.execute(text("CREATE TABLE t (a INTEGER)"))
            results.append(_script(database))
            database.dispose()
    assert results[0] == results[1] == ([1, 4, 5, 6], ["one", "kept", "follow-up"])


def test_a_connection_whose_options_changed_is_not_kept(db):
    """``Connection.execution_options`` changes it in place; the next transaction gets a clean one."""
    with db.transaction(write=False) as conn:
        conn.execution_options(yield_per=5)
        changed = conn
    with db.transaction(write=False) as conn:
        assert conn is not changed
        assert conn.get_execution_options() == db.engine.get_execution_options()

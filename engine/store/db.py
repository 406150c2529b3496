"""One database per platform: engine creation, dialect set-up and transactions.

A write is one transaction. Services call :meth:`Database.transaction`; when a
transaction is already open in the current context (a flow step creating a
record, an install applying many files) the inner call joins it, so the whole
operation commits or rolls back together.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool, StaticPool

from engine.config import setting
from engine.store import versions

#: Functions every SQLite connection gets (name → (number of arguments, implementation)).
#: Layers above the store add theirs (the rule compiler's case folding, RE2,
#: time-zone arithmetic) with :func:`register_sqlite_function` before a
#: platform opens its database.
_sqlite_functions: dict[str, tuple[int, Callable[..., Any]]] = {}


def register_sqlite_function(name: str, nargs: int, fn: Callable[..., Any]) -> None:
    """Install ``fn`` as a deterministic SQL function on every new SQLite connection."""
    _sqlite_functions[name] = (nargs, fn)


_current: contextvars.ContextVar[dict[int, Connection] | None] = contextvars.ContextVar(
    "tessera_connection", default=None
)
#: Callbacks waiting for the outermost transaction of each database to commit.
_after_commit: contextvars.ContextVar[dict[int, list[Callable[[], None]]] | None] = (
    contextvars.ContextVar("tessera_after_commit", default=None)
)


#: ``Connection.info`` key: the transaction :meth:`Database._take` handed it to writes.
_WRITE = "tessera_write"
#: At most this many idle SQLite connections wait in a database's own list.
_IDLE_MAX = 8


def _sqlite_setup(engine: Engine) -> None:
    """SQLite: foreign keys on, WAL for concurrent readers, and explicit BEGIN.

    pysqlite's own transaction handling issues BEGIN lazily and defers the
    write lock; we take over so that a write transaction starts with
    ``BEGIN IMMEDIATE`` and holds the write lock from its first statement
    (id blocks and counters rely on that), while reads stay deferred.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for name, (nargs, fn) in _sqlite_functions.items():
            dbapi_conn.create_function(name, nargs, fn, deterministic=True)
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        dbapi_conn = conn.connection.dbapi_connection
        if dbapi_conn.in_transaction:
            return  # Database.transaction began it on the driver (see there)
        options = conn.get_execution_options()
        write = options.get("tessera_write") or conn.info.get(_WRITE, False)
        # Straight to the driver: through exec_driver_sql this BEGIN cost as much as a
        # flow step's statements (SQLAlchemy's execution and result set-up).
        dbapi_conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")


def json_text(value: Any) -> str:
    """JSON columns' text, written by orjson: the same JSON as ``json.dumps`` gives
    for the lists and mappings fields hold, several times faster on bulk writes."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class Database:
    """The platform's SQLAlchemy engine plus the transaction discipline."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        kwargs: dict[str, Any] = {}
        if url in ("sqlite://", "sqlite:///:memory:"):
            # One shared connection, or each connection would see its own empty database.
            kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        elif pool_size := setting("db_pool_size"):
            # A pool smaller than the threads that use it closes the connections it
            # cannot keep and opens new ones under load: a server process per new
            # PostgreSQL connection, paid by the request that waits for it.
            kwargs = {"pool_size": pool_size}
        self.engine: Engine = create_engine(url, echo=echo, json_serializer=json_text, **kwargs)
        self.dialect: str = self.engine.dialect.name
        if self.dialect == "sqlite":
            _sqlite_setup(self.engine)
        # The write transactions' engine: the same pool and events, the option set once
        # (``Connection.execution_options`` per transaction copied the options each time).
        self._write_engine: Engine = self.engine.execution_options(tessera_write=True)
        # SQLite: connections between transactions, kept here rather than returned to
        # the pool (see _take and _give_back).
        self._idle: list[Connection] = []
        self._generation = 0

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Connection]:
        """Yield a connection inside a transaction; join the one already open here."""
        open_map = _current.get()
        key = id(self)
        if open_map and key in open_map:
            yield open_map[key]
            return
        sqlite_driver = self.dialect == "sqlite"
        if sqlite_driver:
            conn, generation = self._take(write)
        else:
            conn = (self._write_engine if write else self.engine).connect()
        waiting: list[Callable[[], None]] = []
        token = _current.set({**(open_map or {}), key: conn})
        after_token = _after_commit.set({**(_after_commit.get() or {}), key: waiting})
        try:
            if sqlite_driver:
                yield from self._driver_transaction(conn, write)
            else:
                with conn.begin():
                    try:
                        yield conn
                    except BaseException:
                        versions.discard(conn)
                        raise
                    # One bump per entity written, sent with the COMMIT (see versions).
                    versions.flush(conn, commit=True)
        finally:
            _after_commit.reset(after_token)
            _current.reset(token)
            if sqlite_driver:
                self._give_back(conn, generation)
            else:
                conn.close()
        for callback in waiting:
            callback()

    def _take(self, write: bool) -> tuple[Connection, int]:
        """SQLite: an idle connection of ours, else a check-out from the pool.

        A pool check-out and return (the fairy, its events, the reset's
        ROLLBACK) made an empty write transaction cost seven times SQLite's own
        BEGIN and COMMIT, on every write of the engine. So a connection whose
        transaction ended cleanly waits in a list for the next transaction of
        any thread (``list.pop`` and ``append`` are atomic; pysqlite opens file
        connections with ``check_same_thread=False``). The generation lets
        :meth:`dispose` close the idle ones and refuse those in use when it ran.
        """
        generation = self._generation
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = self.engine.connect()
        # Read by the ``begin`` listener should the body commit and go on writing.
        conn.info[_WRITE] = write
        return conn, generation

    def _give_back(self, conn: Connection, generation: int) -> None:
        """Keep ``conn`` for the next transaction when it is clean and the pool is not short.

        Kept connections count as checked out; past the pool's own size they go
        back to it, so a thread waiting on the pool always gets one returned."""
        pool: Any = self.engine.pool
        if (
            generation == self._generation
            and (not isinstance(pool, QueuePool) or pool.checkedout() <= pool.size())
            and len(self._idle) < _IDLE_MAX
            and not conn.closed
            and not conn.invalidated
            # ``execution_options`` changes a connection in place (a backup's yield_per):
            # the next transaction must start with the engine's options, as a new one would
            and conn.get_execution_options() is self.engine.get_execution_options()
            and not conn.in_transaction()
            and not conn.connection.dbapi_connection.in_transaction
        ):
            self._idle.append(conn)
        else:
            if not conn.closed and not conn.invalidated:
                conn.info.pop(_WRITE, None)
            conn.close()

    @contextmanager
    def read_once(self) -> Iterator[Connection]:
        """A connection for one read statement: the open transaction here if there is one,
        else (PostgreSQL) an autocommit connection.

        A lone SELECT under READ COMMITTED sees the same committed data with or
        without BEGIN and COMMIT around it; without them it costs one round trip to
        the server instead of three (the sign-in read of every API request).
        SQLite keeps its ordinary read transaction: there BEGIN is no round trip.
        """
        if self.dialect != "postgresql" or self.in_transaction():
            with self.transaction(write=False) as conn:
                yield conn
            return
        with self.autocommit() as conn:
            yield conn

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """PostgreSQL: a connection in autocommit for a write that is one statement.

        Each statement is then its own transaction: no BEGIN round trip, no
        transaction held open while Python runs (``engine.store.lone_create``).
        Only outside a transaction opened here, whose writes it would escape.
        """
        if self.dialect != "postgresql" or self.in_transaction():
            raise RuntimeError("Database.autocommit() is for PostgreSQL outside a transaction")
        with self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    @staticmethod
    def _driver_transaction(conn: Connection, write: bool) -> Iterator[Connection]:
        """SQLite: BEGIN and COMMIT straight on the driver, around ``conn``.

        SQLAlchemy's transaction object (its begin, commit and events) cost a
        short write, a flow step, more than SQLite's own commit. When the body
        runs a statement through ``conn``, SQLAlchemy begins its own
        transaction on top (the ``begin`` listener sees the driver's one open
        and issues nothing), and that one commits or rolls back the whole.
        """
        dbapi_conn = conn.connection.dbapi_connection
        dbapi_conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
            versions.flush(conn)  # one bump per entity written, inside the transaction
        except BaseException:
            versions.discard(conn)
            if conn.in_transaction():
                conn.rollback()
            elif dbapi_conn.in_transaction:
                dbapi_conn.rollback()
            raise
        if conn.in_transaction():
            conn.commit()
        else:
            dbapi_conn.commit()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the transaction open here has committed (never on rollback).

        Work that must see committed data, or that must not happen when the
        write fails (a follow-up write, waking a worker), registers here. With
        no transaction open the callback runs at once.
        """
        waiting = (_after_commit.get() or {}).get(id(self))
        if waiting is None:
            callback()
        else:
            waiting.append(callback)

    @contextmanager
    def savepoint(self) -> Iterator[Connection]:
        """A savepoint inside the transaction open here: an exception in the body rolls the
        database back to it, and the after-commit callbacks the body registered (a flow to
        start, a follow-up to apply) go with it, so nothing acts on a write that was undone.
        The exception is raised again for the caller to report."""
        open_map = _current.get()
        waiting = (_after_commit.get() or {}).get(id(self))
        if not open_map or id(self) not in open_map or waiting is None:
            raise RuntimeError("Database.savepoint() needs an open transaction")
        mark = len(waiting)
        try:
            with open_map[id(self)].begin_nested():
                yield open_map[id(self)]
        except BaseException:
            del waiting[mark:]
            raise

    def in_transaction(self) -> bool:
        open_map = _current.get()
        return bool(open_map and id(self) in open_map)

    def dispose(self) -> None:
        """Close every connection: the idle ones kept by :meth:`_take`, then the pool's.

        A transaction still running on another thread closes its connection at its
        end (its generation is gone) instead of keeping it."""
        self._generation += 1
        while self._idle:
            try:
                self._idle.pop().close()
            except IndexError:
                break
        self.engine.dispose()

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
from sqlalchemy import Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

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
        write = conn.get_execution_options().get("tessera_write", False)
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
        self.engine: Engine = create_engine(url, echo=echo, json_serializer=json_text, **kwargs)
        self.dialect: str = self.engine.dialect.name
        if self.dialect == "sqlite":
            _sqlite_setup(self.engine)
        # The write transactions' engine: the same pool and events, the option set once
        # (``Connection.execution_options`` per transaction copied the options each time).
        self._write_engine: Engine = self.engine.execution_options(tessera_write=True)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Connection]:
        """Yield a connection inside a transaction; join the one already open here."""
        open_map = _current.get()
        key = id(self)
        if open_map and key in open_map:
            yield open_map[key]
            return
        conn = (self._write_engine if write else self.engine).connect()
        waiting: list[Callable[[], None]] = []
        token = _current.set({**(open_map or {}), key: conn})
        after_token = _after_commit.set({**(_after_commit.get() or {}), key: waiting})
        try:
            if self.dialect == "sqlite":
                yield from self._driver_transaction(conn, write)
            else:
                with conn.begin():
                    try:
                        yield conn
                    except BaseException:
                        versions.discard(conn)
                        raise
                    versions.flush(conn)  # one bump per entity written, inside the transaction
        finally:
            _after_commit.reset(after_token)
            _current.reset(token)
            conn.close()
        for callback in waiting:
            callback()

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
        self.engine.dispose()


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def upsert(conn: Connection, table: Table, values: dict[str, Any], key: str, set_: dict) -> Any:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET ...`` on the connection's dialect."""
    stmt = _INSERTS[conn.dialect.name](table).values(**values)
    return stmt.on_conflict_do_update(index_elements=[key], set_=set_)

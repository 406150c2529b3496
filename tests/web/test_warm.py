"""A server worker warms itself and freezes its heap before serving (``web.warm``).

The warm-up must run on any platform, write nothing, leave no trace in the
metrics, leave the app serving as before, and do the work the first requests
would otherwise do (the INSERT's SQL compiled, the pool's connections open).
``tessera serve --workers`` (``web.serving``) warms each worker and sizes its
pool to its threads.
"""

from __future__ import annotations

import gc
import logging
import os

import pytest
from sqlalchemy import func, select

from engine.store import versions
from engine.store.bulk import _cache as prepared_inserts
from engine.store.system import audit_log
from tests.conftest import on_postgres
from web.app import create_app
from web.warm import warm_worker

LEAD = {
    "name": "lead",
    "label": "Lead",
    "title_field": "company",
    "schema": {
        "type": "object",
        "required": ["company"],
        "properties": {"company": {"type": "string"}, "size": {"type": "integer"}},
    },
}


@pytest.fixture
def unfreeze():
    """The warm-up freezes this test process's heap: give it back afterwards."""
    yield
    gc.unfreeze()


def _counts(p) -> tuple[int, int, dict[str, int]]:
    table = p.entities.get("lead").table
    with p.db.transaction(write=False) as conn:
        rows = conn.execute(select(func.count()).select_from(table)).scalar_one()
        audits = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
        return rows, audits, versions.current(conn, ["lead"])


def test_the_warm_up_writes_nothing_and_the_app_serves_as_before(platform, unfreeze):
    p = platform
    p.meta.save("entity", "lead", LEAD, user="test")
    p.records("lead").create({"company": "Before"})
    p.users.add("ann", password="ann-secret-1", roles=["admin"])
    token = p.users.create_token("ann")["token"]
    app = create_app(p, config={"SECRET_KEY": "k"})
    before = _counts(p)

    warm_worker(app, connections=3)

    assert _counts(p) == before
    assert gc.get_freeze_count() > 0
    assert app.extensions["tessera.metrics"].counts == {}  # warm-up requests are not traffic
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/records/lead", json={"company": "After"}, headers=auth)
    assert created.status_code == 201, created.get_data(as_text=True)
    listed = client.get("/api/v1/records/lead", headers=auth).get_json()
    assert {r["company"] for r in listed["items"]} == {"Before", "After"}
    refused = client.post("/api/v1/records/lead", json={"size": "x"}, headers=auth)
    assert refused.status_code == 422
    assert {e["field"] for e in refused.get_json()["errors"]} >= {"company", "size"}
    assert client.get("/api/v1/records/lead").status_code == 401  # still signed-in only
    counted = app.extensions["tessera.metrics"].counts
    assert sum(counted.values()) == 4


def test_the_first_create_finds_its_insert_compiled(platform, unfreeze):
    p = platform
    p.meta.save("entity", "lead", LEAD, user="test")
    table = p.entities.get("lead").table
    warm_worker(create_app(p, config={"SECRET_KEY": "k"}))
    assert any(key[0] == id(table) for key in prepared_inserts)
    if on_postgres():
        from engine.store.records import _TAKING_ID

        assert any('"t_lead"' in sql or " t_lead " in sql for _d, sql in _TAKING_ID)


@pytest.mark.postgres_only
def test_the_pool_keeps_the_connections_opened_for_the_threads(db_url, monkeypatch, unfreeze):
    from engine import Platform

    monkeypatch.setenv("TESSERA_DB_POOL_SIZE", "6")
    p = Platform(db_url)
    try:
        assert p.db.engine.pool.size() == 6
        warm_worker(create_app(p, config={"SECRET_KEY": "k"}), connections=6)
        assert p.db.engine.pool.checkedin() == 6
    finally:
        p.close()


def test_a_broken_entity_does_not_stop_the_warm_up(platform, monkeypatch, caplog, unfreeze):
    p = platform
    p.meta.save("entity", "lead", LEAD, user="test")
    app = create_app(p, config={"SECRET_KEY": "k"})

    def broken(*_args, **_kw):
        raise RuntimeError("cannot build")

    monkeypatch.setattr(p, "records", broken)
    with caplog.at_level(logging.WARNING, logger="tessera.serve"):
        warm_worker(app)
    assert "warm-up of entity lead failed" in caplog.text
    assert gc.get_freeze_count() > 0


def _entities(p, *names):
    for name in names:
        p.meta.save("entity", name, {**LEAD, "name": name, "label": name.title()}, user="test")


def test_one_read_transaction_warms_every_entity(platform, monkeypatch, unfreeze):
    from engine.store.records import RecordService

    p = platform
    _entities(p, "lead", "prospect", "partner")
    app = create_app(p, config={"SECRET_KEY": "k"})
    opened = []
    transaction = p.db.transaction

    def counted(*args, **kw):
        if not p.db.in_transaction():
            opened.append(1)
        return transaction(*args, **kw)

    seen = []

    def noting(method):
        def call(self, *args, **kw):
            seen.append((method.__name__, self.entity, p.db.in_transaction(), len(opened)))
            return method(self, *args, **kw)

        return call

    monkeypatch.setattr(p.db, "transaction", counted)
    for method in (RecordService.list, RecordService.warm):
        monkeypatch.setattr(RecordService, method.__name__, noting(method))
    warm_worker(app)
    assert sorted({entity for _m, entity, _i, _n in seen}) == ["lead", "partner", "prospect"]
    assert len(seen) == 6 and all(inside for _m, _e, inside, _n in seen)
    assert len({n for *_rest, n in seen}) == 1  # no transaction opened between them


def test_a_broken_entity_leaves_the_others_warmed(platform, monkeypatch, caplog, unfreeze):
    from engine.store.records import RecordService

    p = platform
    _entities(p, "lead", "prospect", "partner")
    app = create_app(p, config={"SECRET_KEY": "k"})
    warmed = []
    real_list, real_warm = RecordService.list, RecordService.warm

    def list_(self, *args, **kw):
        if self.entity == "lead":  # a failed statement aborts a PostgreSQL transaction
            with p.db.transaction(write=False) as conn:
                conn.exec_driver_sql("SELECT * FROM no_such_table")
        return real_list(self, *args, **kw)

    def warm(self, conn):
        warmed.append(self.entity)
        return real_warm(self, conn)

    monkeypatch.setattr(RecordService, "list", list_)
    monkeypatch.setattr(RecordService, "warm", warm)
    with caplog.at_level(logging.WARNING, logger="tessera.serve"):
        warm_worker(app)
    assert "warm-up of entity lead failed" in caplog.text
    assert sorted(warmed) == ["partner", "prospect"]
    assert gc.get_freeze_count() > 0


def test_serve_warms_each_worker_and_sizes_its_pool(db_url, monkeypatch, unfreeze):
    """``serve_production`` as gunicorn runs it: the settings, then ``load`` in the worker."""
    from gunicorn.app.base import BaseApplication

    from web.serving import serve_production

    loaded = {}

    def run(self):  # instead of forking workers: what one worker does
        self.load_config()
        loaded["threads"] = self.cfg.threads
        loaded["app"] = self.load()

    monkeypatch.setattr(BaseApplication, "run", run)
    # Recorded so that what serve_production sets is undone after the test ("": unset).
    monkeypatch.setenv("TESSERA_DB_POOL_SIZE", "")
    monkeypatch.setenv("TESSERA_SECRET_KEY", "k")
    serve_production(db_url, host="127.0.0.1", port=0, workers=2, threads=7)
    assert os.environ["TESSERA_DB_POOL_SIZE"] == "7"
    app = loaded["app"]
    p = app.extensions["tessera"]
    try:
        assert loaded["threads"] == 7
        assert gc.get_freeze_count() > 0
        assert app.test_client().get("/healthz").status_code == 200
        if on_postgres():
            assert p.db.engine.pool.size() == 7
            assert p.db.engine.pool.checkedin() == 7
    finally:
        p.close()

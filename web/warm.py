"""Ready a server worker before it takes requests: warm it, then freeze its heap.

A worker builds much on first use: the modules the request path imports
lazily, the entity registry, each entity's record codec and live rules, the
SQL of the statements every request sends, Flask's request machinery, and
its database connections. Under ``bench/bench_load.py`` a fresh worker's
first create took 190 ms of CPU and a second of wall time, with the other
threads of the worker waiting behind it. :func:`warm_worker` does that work
once, as the worker starts, through the same code the requests run (one
request to ``/healthz`` and one refused sign-in through the WSGI app, a read
of one record per entity, in one read transaction), and writes nothing.

It then freezes the heap (``gc.freeze()``): the quarter of a million objects
of the app, its metadata and the modules are moved out of the collector's
generations, so a full collection no longer walks them. A full collection of
a warmed worker took 200 ms of CPU, during which every thread of the worker
waits. This is the standard setting for long-lived pre-forked servers (see
the ``gc.freeze`` documentation); objects created later are collected as
before.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

from flask import Flask

from web.http import platform_of

log = logging.getLogger("tessera.serve")

#: The request id of the warm-up requests, in the request log.
WARM_UP_ID = "warm-up"


def warm_worker(app: Flask, *, connections: int = 0) -> None:
    """Build what the first requests of a worker would build, open ``connections``
    database connections for its pool, then collect and freeze the heap."""
    p = platform_of(app)
    client = app.test_client()
    headers = {"X-Request-Id": WARM_UP_ID}
    client.get("/healthz", headers=headers)
    # A refused token: the sign-in read, the problem document, the API's blueprint.
    client.get("/api/v1/entities", headers={**headers, "Authorization": "Bearer warm-up"})
    p.webhook_index()  # read by every write
    names = p.entities.names()
    while names:
        names = _warm_entities(p, names)
    _open_connections(p, connections)
    metrics = app.extensions.get("tessera.metrics")
    if metrics is not None:
        metrics.clear()  # the warm-up requests are not traffic
    gc.collect()
    gc.freeze()


def _warm_entities(p: Any, names: list[str]) -> list[str]:
    """Read one record of each entity and build its first create's SQL, all in one read
    transaction (one BEGIN and COMMIT, not one per entity); returns the names after
    one that failed, for a new transaction: its failure may have aborted this one
    (PostgreSQL), and a broken entity must not keep the server from starting."""
    done = 0
    try:
        with p.db.transaction(write=False) as conn:
            for name in names:
                records = p.records(name)
                records.list(limit=1)
                records.warm(conn)
                done += 1
    except Exception:
        failed = names[done] if done < len(names) else "(its transaction)"
        log.warning("warm-up of entity %s failed", failed, exc_info=True)
        return names[done + 1 :]
    return []


def _open_connections(p: Any, count: int) -> None:
    """Check out ``count`` connections at once and give them back, so the pool holds
    them: a request that would open one (a PostgreSQL server process) does not."""
    if p.db.dialect == "sqlite" or count <= 0:
        return
    opened = []
    try:
        for _ in range(count):
            opened.append(p.db.engine.connect())
    finally:
        for conn in opened:
            conn.close()


__all__ = ["WARM_UP_ID", "warm_worker"]

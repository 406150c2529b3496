"""How fast is a pivot report, next to the same pivot written by hand and in pandas and DuckDB?

Generates ``--n`` opportunities from a seed (region, industry, stage, owner,
amount with two decimals, close date over three years), saves an
``opportunity`` entity and loads them straight into its live table (driver
``executemany`` on SQLite, ``COPY`` on PostgreSQL, then ``ANALYZE``; the
record API is not the question here). Then times, best of ``--runs`` and
alternating which goes first, one pivot: rows region x stage, columns the
quarter of the close date, values sum(amount) and count, with row totals,
column totals and the grand total:

- Tessera: ``p.reports.run(definition)``, the whole call (reading the
  definition, building the SQL, the query, folding totals and shaping);
- hand-written SQL (the limit): one leaf ``GROUP BY`` written for this
  pivot, totals folded in plain Python dicts, on the same database;
- on PostgreSQL also one hand-written ``GROUPING SETS`` statement;
- pandas: ``pivot_table(..., margins=True)`` on a DataFrame already in memory;
- DuckDB: one ``GROUPING SETS`` statement over that same DataFrame.

Every cell and every total of every method is checked against the exact
answer kept while generating (integer cents): counts must be equal, sums
within 0.01. The script exits non-zero on any disagreement.

``--keep NAME`` loads into a database that outlives the run (a database of
that name on the ``--url`` server, or a SQLite file of that path) and, when a
later run finds it already holding the same ``--n`` and ``--seed``, skips the
load: ten million rows take 200-600 s to COPY, the pivot a few seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import os
import platform
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Platform
from engine.clock import Clock

NOW = "2026-06-30T12:00:00+08:00"
SEED = 6

REGIONS = ["east", "west", "north", "south", "华东", "华南"]
INDUSTRIES = ["retail", "manufacturing", "finance", "education", "health", "software"]
STAGES = ["prospect", "qualified", "proposal", "negotiation", "won", "lost"]
#: Opportunities are owned by sales reps: the engine's own ``owner`` column holds them.
OWNERS = [f"rep{i:02d}" for i in range(50)]
FIRST_DAY = dt.date(2024, 1, 1)
DAYS = (dt.date(2027, 1, 1) - FIRST_DAY).days  # three years, 2024 to 2026
#: Amounts from 500.00 to 250,000.00, in cents.
MIN_CENTS, MAX_CENTS = 50_000, 25_000_000


def _label(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh-CN": zh}


OPPORTUNITY_DEFINITION: dict[str, Any] = {
    "name": "opportunity",
    "label": _label("Opportunity", "商机"),
    "title_field": "region",
    "schema": {
        "type": "object",
        "required": ["region", "stage"],
        "properties": {
            "region": {"type": "string", "enum": REGIONS, "x-label": _label("Region", "区域")},
            "industry": {
                "type": "string",
                "enum": INDUSTRIES,
                "x-label": _label("Industry", "行业"),
            },
            "stage": {"type": "string", "enum": STAGES, "x-label": _label("Stage", "阶段")},
            "amount": {
                "type": "number",
                "x-type": "currency",
                "minimum": 0,
                "x-label": _label("Amount", "金额"),
            },
            "close_date": {
                "type": "string",
                "format": "date",
                "x-label": _label("Close date", "预计成交日期"),
            },
        },
    },
}

REPORT: dict[str, Any] = {
    "name": "pipeline_by_quarter",
    "type": "pivot",
    "source": "opportunity",
    "rows": ["region", "stage"],
    "columns": [{"field": "close_date", "bucket": "quarter"}],
    "measures": [
        {"name": "amount", "agg": "sum", "field": "amount"},
        {"name": "deals", "agg": "count"},
    ],
    "totals": {"rows": True, "columns": True},
}

#: (region, stage, quarter start) with None where a total rolls the dimension up
#: -> (sum of amount, count).
Key = tuple[Any, Any, Any]
Answer = dict[Key, tuple[Decimal, int]]


# ---------------------------------------------------------------- data


def generate(n: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """``n`` opportunities as column arrays of codes (the same seed gives the same data)."""
    rng = np.random.default_rng(seed)
    return {
        "region": rng.integers(0, len(REGIONS), n, dtype=np.int8),
        "industry": rng.integers(0, len(INDUSTRIES), n, dtype=np.int8),
        "stage": rng.integers(0, len(STAGES), n, dtype=np.int8),
        "owner": rng.integers(0, len(OWNERS), n, dtype=np.int8),
        "cents": rng.integers(MIN_CENTS, MAX_CENTS + 1, n, dtype=np.int64),
        "day": rng.integers(0, DAYS, n, dtype=np.int32),
    }


def _days() -> list[dt.date]:
    return [FIRST_DAY + dt.timedelta(days=i) for i in range(DAYS)]


def _quarter(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def exact_answer(data: dict[str, np.ndarray]) -> Answer:
    """Every cell and total of the pivot, computed in integer cents: the oracle."""
    quarters = sorted({_quarter(d) for d in _days()})
    q_of_day = np.array([quarters.index(_quarter(d)) for d in _days()], dtype=np.int64)
    nq = len(quarters)
    cell = (data["region"].astype(np.int64) * len(STAGES) + data["stage"]) * nq + q_of_day[
        data["day"]
    ]
    size = len(REGIONS) * len(STAGES) * nq
    cents = np.zeros(size, dtype=np.int64)
    np.add.at(cents, cell, data["cents"])
    counts = np.bincount(cell, minlength=size).astype(np.int64)
    leaves: dict[Key, tuple[int, int]] = {}
    for i in np.nonzero(counts)[0].tolist():
        r, rest = divmod(i, len(STAGES) * nq)
        s, q = divmod(rest, nq)
        leaves[(REGIONS[r], STAGES[s], quarters[q])] = (int(cents[i]), int(counts[i]))
    folded = fold(leaves)
    return {k: (Decimal(c) / 100, n) for k, (c, n) in folded.items()}


def fold(leaves: dict[Key, tuple[Any, int]]) -> dict[Key, tuple[Any, int]]:
    """Leaves plus row totals, column totals and the grand total, added up in plain dicts."""
    out: dict[Key, list[Any]] = {}
    for (region, stage, quarter), (amount, count) in leaves.items():
        for key in (
            (region, stage, quarter),
            (region, stage, None),
            (None, None, quarter),
            (None, None, None),
        ):
            slot = out.get(key)
            if slot is None:
                out[key] = [amount, count]
            else:
                slot[0] += amount
                slot[1] += count
    return {k: (v[0], v[1]) for k, v in out.items()}


def columns_of(p: Platform) -> tuple[Any, list[str]]:
    live = p.entities.get("opportunity")
    table, model = live.table, live.model
    fields = ["region", "industry", "stage", "amount", "close_date"]
    names = ["id", "owner", "created_by", "created_on", "modified_by", "modified_on", "version"]
    names += [model.fields[f].column for f in fields]
    return table, names


def load(p: Platform, data: dict[str, np.ndarray], chunk: int = 100_000) -> None:
    """Straight into the live table: executemany of ready tuples (SQLite) or COPY (PostgreSQL)."""
    table, names = columns_of(p)
    now = p.clock.now().astimezone(dt.UTC)
    days = _days()
    quote = p.db.engine.dialect.identifier_preparer.quote
    column_list = ", ".join(quote(c) for c in names)
    with p.db.transaction(write=True) as conn:
        if p.db.dialect == "postgresql":
            _copy(conn, table.name, column_list, data, days, now, chunk)
        else:
            _insert_sqlite(conn, table.name, column_list, names, data, days, now, chunk)
    print(f"  loaded {len(data['cents']):,}", file=sys.stderr)
    with p.db.transaction(write=True) as conn:
        conn.exec_driver_sql(f"ANALYZE {table.name}" if p.db.dialect == "postgresql" else "ANALYZE")


def _insert_sqlite(
    conn: Any,
    table: str,
    column_list: str,
    names: list[str],
    data: dict[str, np.ndarray],
    days: list[dt.date],
    now: dt.datetime,
    chunk: int,
) -> None:
    # The column storage the engine uses: UTC datetimes as naive ISO text, dates as
    # ISO text, currency in a NUMERIC column (SQLite keeps it as a REAL).
    stamp = now.replace(tzinfo=None).isoformat(sep=" ")
    day_text = [d.isoformat() for d in days]
    marks = ", ".join("?" for _ in names)
    sql = f"INSERT INTO {table} ({column_list}) VALUES ({marks})"
    n = len(data["cents"])
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        rows = [
            (
                i,
                OWNERS[o],
                "bench",
                stamp,
                "bench",
                stamp,
                1,
                REGIONS[r],
                INDUSTRIES[ind],
                STAGES[s],
                c / 100,
                day_text[d],
            )
            for i, o, r, ind, s, c, d in zip(
                range(start + 1, stop + 1),
                data["owner"][start:stop].tolist(),
                data["region"][start:stop].tolist(),
                data["industry"][start:stop].tolist(),
                data["stage"][start:stop].tolist(),
                data["cents"][start:stop].tolist(),
                data["day"][start:stop].tolist(),
            )
        ]
        conn.exec_driver_sql(sql, rows)
        print(f"  loaded {stop:,}", end="\r", file=sys.stderr)


def _copy(
    conn: Any,
    table: str,
    column_list: str,
    data: dict[str, np.ndarray],
    days: list[dt.date],
    now: dt.datetime,
    chunk: int,
) -> None:
    stamp = now.isoformat()
    day_text = [d.isoformat() for d in days]
    cursor = conn.connection.driver_connection.cursor()
    n = len(data["cents"])
    with cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            lines = [
                f"{i}\t{OWNERS[o]}\tbench\t{stamp}\tbench\t{stamp}\t1\t{REGIONS[r]}\t"
                f"{INDUSTRIES[ind]}\t{STAGES[s]}\t{c // 100}.{c % 100:02d}\t{day_text[d]}\n"
                for i, o, r, ind, s, c, d in zip(
                    range(start + 1, stop + 1),
                    data["owner"][start:stop].tolist(),
                    data["region"][start:stop].tolist(),
                    data["industry"][start:stop].tolist(),
                    data["stage"][start:stop].tolist(),
                    data["cents"][start:stop].tolist(),
                    data["day"][start:stop].tolist(),
                )
            ]
            copy.write("".join(lines).encode())
            print(f"  loaded {stop:,}", end="\r", file=sys.stderr)


def dataframe(data: dict[str, np.ndarray]) -> Any:
    """The opportunities as a pandas DataFrame, as an analyst would hold them in memory."""
    import pandas as pd

    first = np.datetime64(FIRST_DAY.isoformat(), "s")
    return pd.DataFrame(
        {
            "region": np.array(REGIONS, dtype=object)[data["region"]],
            "industry": np.array(INDUSTRIES, dtype=object)[data["industry"]],
            "stage": np.array(STAGES, dtype=object)[data["stage"]],
            "owner": np.array(OWNERS, dtype=object)[data["owner"]],
            "amount": data["cents"] / 100,
            "close_date": first + data["day"].astype("timedelta64[D]"),
        }
    )


# ---------------------------------------------------------------- the contenders


def tessera(p: Platform) -> Callable[[], Any]:
    return lambda: p.reports.run(REPORT, cached=False)  # time the query, not the cache


def tessera_answer(result: dict[str, Any]) -> Answer:
    if result["truncated"]:
        raise AssertionError("Tessera's result is truncated")
    out: Answer = {}
    quarters = [c["key"][0] for c in result["columns"]]
    for row in result["rows"]:
        region, stage = row["key"]
        for quarter, (amount, count) in zip(quarters, row["cells"]):
            if count:
                out[(region, stage, quarter)] = (amount, count)
        out[(region, stage, None)] = (row["total"][0], row["total"][1])
    for quarter, (amount, count) in zip(quarters, result["totals"]["cells"]):
        if count:
            out[(None, None, quarter)] = (amount, count)
    grand = result["totals"]["total"]
    out[(None, None, None)] = (grand[0], grand[1])
    return out


def hand_sql(p: Platform) -> Callable[[], Any]:
    """One leaf GROUP BY as a developer writes it, totals folded in Python."""
    table = p.entities.get("opportunity").table.name
    if p.db.dialect == "postgresql":
        # close_date::timestamp: date_trunc(close_date) alone casts to timestamptz, a
        # time-zone lookup per row; the limit is the best a developer writes.
        sql = (
            "SELECT region, stage, CAST(date_trunc('quarter', close_date::timestamp) AS date), "
            f"sum(amount), count(*) FROM {table} GROUP BY 1, 2, 3"
        )

        def run() -> Any:
            with p.db.transaction(write=False) as conn:
                rows = conn.exec_driver_sql(sql).all()
            return fold({(r, s, q): (a, c) for r, s, q, a, c in rows})

        return run
    # SQLite keeps dates as ISO text: the quarter is year and (month + 2) / 3.
    sql = (
        "SELECT region, stage, CAST(substr(close_date, 1, 4) AS INTEGER), "
        "(CAST(substr(close_date, 6, 2) AS INTEGER) + 2) / 3, sum(amount), count(*) "
        f"FROM {table} GROUP BY 1, 2, 3, 4"
    )

    def run_sqlite() -> Any:
        with p.db.transaction(write=False) as conn:
            rows = conn.exec_driver_sql(sql).all()
        return fold({(r, s, dt.date(y, q * 3 - 2, 1)): (a, c) for r, s, y, q, a, c in rows})

    return run_sqlite


def hand_grouping_sets(p: Platform) -> Callable[[], Any]:
    """PostgreSQL only: every level in one statement, GROUPING() tells them apart."""
    table = p.entities.get("opportunity").table.name
    q = "CAST(date_trunc('quarter', close_date::timestamp) AS date)"
    sql = (
        f"SELECT region, stage, {q}, sum(amount), count(*), GROUPING(region, stage, {q}) "
        f"FROM {table} GROUP BY GROUPING SETS ((region, stage, {q}), (region, stage), ({q}), ())"
    )

    def run() -> Any:
        with p.db.transaction(write=False) as conn:
            rows = conn.exec_driver_sql(sql).all()
        return {(r, s, qq): (a, c) for r, s, qq, a, c, _ in rows}

    return run


def pandas_pivot(df: Any) -> Callable[[], Any]:
    import pandas as pd

    def run() -> Any:
        frame = df[["region", "stage", "amount"]].assign(quarter=df["close_date"].dt.to_period("Q"))
        return pd.pivot_table(
            frame,
            index=["region", "stage"],
            columns="quarter",
            values="amount",
            aggfunc=["sum", "count"],
            margins=True,
            margins_name="All",
        )

    return run


def pandas_answer(table: Any) -> Answer:
    out: Answer = {}
    for (region, stage), row in table.iterrows():
        for (agg, quarter), value in row.items():
            if agg != "count" or value != value or not value:  # NaN or no records
                continue
            r, s = (None, None) if region == "All" else (region, stage)
            q = None if quarter == "All" else quarter.start_time.date()
            out[(r, s, q)] = (row[("sum", quarter)], int(value))
    return out


def duckdb_pivot(df: Any) -> Callable[[], Any]:
    import duckdb

    con = duckdb.connect()
    con.register("opportunities", df)
    q = "CAST(date_trunc('quarter', close_date) AS DATE)"
    sql = (
        f"SELECT region, stage, {q} AS quarter, sum(amount), count(*), "
        f"GROUPING(region, stage, {q}) FROM opportunities "
        f"GROUP BY GROUPING SETS ((region, stage, {q}), (region, stage), ({q}), ())"
    )
    return lambda: con.execute(sql).fetchall()


def grouped_answer(rows: Any) -> Answer:
    return {(r, s, q): (a, c) for r, s, q, a, c, _ in rows}


# ---------------------------------------------------------------- checking and timing


def disagreements(name: str, got: dict[Key, tuple[Any, int]], want: Answer) -> list[str]:
    problems = []
    for key in sorted(set(got) | set(want), key=repr):
        if key not in got or key not in want:
            problems.append(f"{name}: {key} {'missing' if key in want else 'not expected'}")
            continue
        (amount, count), (exact, n) = got[key], want[key]
        if int(count) != n or abs(Decimal(str(amount)) - exact) > Decimal("0.01"):
            problems.append(f"{name}: {key} gave ({amount}, {count}), expected ({exact}, {n})")
    return problems


def best_of(
    runs: int, contenders: list[tuple[str, Callable[[], Any]]]
) -> tuple[dict[str, float], dict[str, Any], dict[str, float]]:
    """Best wall time, last result and best CPU time (this process's) of each contender."""
    best = {name: float("inf") for name, _ in contenders}
    cpu = {name: float("inf") for name, _ in contenders}
    last: dict[str, Any] = {}
    for run in range(runs):
        order = contenders if run % 2 == 0 else contenders[::-1]
        for name, fn in order:
            # As timeit does: no garbage collection inside a timed call. The DataFrame's
            # object arrays make one full collection cost ~0.15 s, and which call it
            # lands in is chance.
            gc.collect()
            gc.disable()
            try:
                start, start_cpu = time.perf_counter(), time.process_time()
                last[name] = fn()
                best[name] = min(best[name], time.perf_counter() - start)
                cpu[name] = min(cpu[name], time.process_time() - start_cpu)
            finally:
                gc.enable()
    return best, last, cpu


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}"


#: The table a kept database records its load in (n, seed), written after the load.
MARKER = "bench_pivot_load"


def kept_url(url: str | None, name: str) -> str:
    """The URL of the kept database ``name``: created on the ``url`` server if missing."""
    if not url or url.startswith("sqlite"):
        return f"sqlite:///{Path(name).resolve()}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if not name.replace("_", "").isalnum():
        raise SystemExit(f"--keep: {name!r} is not a plain database name (letters, digits, _)")
    server = make_url(url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if found.scalar() is None:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def kept_load(p: Platform) -> tuple[int, int] | None:
    """(n, seed) of the load a kept database already holds, or None when it holds none."""
    from sqlalchemy import inspect

    with p.db.transaction(write=False) as conn:
        if not inspect(conn).has_table(MARKER):
            return None
        row = conn.exec_driver_sql(f"SELECT n, seed FROM {MARKER}").first()
    return None if row is None else (int(row[0]), int(row[1]))


def mark_loaded(p: Platform, n: int, seed: int) -> None:
    with p.db.transaction(write=True) as conn:
        conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {MARKER} (n BIGINT, seed BIGINT)")
        conn.exec_driver_sql(f"DELETE FROM {MARKER}")
        conn.exec_driver_sql(f"INSERT INTO {MARKER} (n, seed) VALUES ({int(n)}, {int(seed)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--url", default=None, help="database URL (default: SQLite in a temp dir)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--profile", action="store_true", help="also profile one Tessera run (cProfile)"
    )
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="load into database NAME on the --url server (or SQLite file NAME) and keep it; "
        "a later run with the same --n and --seed reuses it instead of loading again",
    )
    args = parser.parse_args()

    import duckdb
    import pandas as pd

    tmp = tempfile.TemporaryDirectory()
    url = args.url or f"sqlite:///{tmp.name}/bench.db"
    if args.keep:
        url = kept_url(args.url, args.keep)
    clock = Clock("Asia/Shanghai")
    clock.set(NOW)
    p = Platform(url, clock=clock)
    loaded = kept_load(p) if args.keep else None
    if loaded is not None and loaded != (args.n, args.seed):
        p.close()
        raise SystemExit(
            f"--keep {args.keep}: it holds --n {loaded[0]} --seed {loaded[1]}; "
            "drop it or keep another name"
        )
    if loaded is None:
        p.meta.save("entity", "opportunity", OPPORTUNITY_DEFINITION, user="bench")

    t0 = time.perf_counter()
    data = generate(args.n, args.seed)
    want = exact_answer(data)
    generate_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    if loaded is None:
        load(p, data)
        if args.keep:
            mark_loaded(p, args.n, args.seed)
    load_seconds = time.perf_counter() - t0
    df = dataframe(data)
    del data

    pg = p.db.dialect == "postgresql"
    contenders = [("tessera", tessera(p)), ("hand", hand_sql(p))]
    if pg:
        contenders.append(("grouping_sets", hand_grouping_sets(p)))
    contenders += [("pandas", pandas_pivot(df)), ("duckdb", duckdb_pivot(df))]
    best, last, cpu = best_of(args.runs, contenders)

    answers = {
        "tessera": tessera_answer(last["tessera"]),
        "hand": last["hand"],
        "pandas": pandas_answer(last["pandas"]),
        "duckdb": grouped_answer(last["duckdb"]),
    }
    if pg:
        answers["grouping_sets"] = last["grouping_sets"]
    problems = [x for name, got in answers.items() for x in disagreements(name, got, want)]

    if pg:
        with p.db.transaction(write=False) as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
        database = f"PostgreSQL {version}"
    else:
        import sqlite3

        database = f"SQLite {sqlite3.sqlite_version}"
    labels = {
        "tessera": "Tessera p.reports.run",
        "hand": "hand-written SQL + dict fold (limit)",
        "grouping_sets": "hand-written GROUPING SETS",
        "pandas": "pandas pivot_table(margins=True)",
        "duckdb": "DuckDB GROUPING SETS on the DataFrame",
    }
    command = "python " + " ".join(
        [
            sys.argv[0],
            *[a if "://" not in a else a.split("://")[0] + "://..." for a in sys.argv[1:]],
        ]
    )
    print(
        f"pivot bench, {dt.date.today()}, Python {sys.version.split()[0]}, {machine()}, "
        f"{database}, pandas {pd.__version__}, DuckDB {duckdb.__version__}"
    )
    print(f"command: {command}")
    how = f"loaded in {load_seconds:.1f}s" if loaded is None else f"reused from {args.keep}"
    print(
        f"{args.n:,} opportunities (generated in {generate_seconds:.1f}s, "
        f"{how}), best of {args.runs}, alternating order"
    )
    n_cells = sum(1 for k in want if None not in k)
    print(
        f"pivot: rows region x stage, columns quarter(close_date), sum(amount) and count, "
        f"row, column and grand totals ({n_cells} cells, {len(want)} keys with totals)"
    )
    print(f"{'method':<40}{'seconds':>10}{'vs hand-written':>18}{'cpu s':>9}")
    for name, _ in contenders:
        ratio = best[name] / best["hand"]
        print(f"{labels[name]:<40}{best[name]:>10.3f}{ratio:>17.2f}x{cpu[name]:>9.3f}")
    where = "the server's work is not in it" if pg else "the whole SQLite query is in it"
    print(f"cpu s: best CPU time of this process ({where}); load average {os.getloadavg()[0]:.1f}")
    checked = ", ".join(answers)
    print(
        f"every cell and total checked against the exact sums ({checked}): "
        f"{len(problems)} disagreement(s)"
    )
    for line in problems[:20]:
        print("  " + line)

    if args.profile:
        profiler = cProfile.Profile()
        gc.collect()
        gc.disable()
        profiler.enable()
        p.reports.run(REPORT, cached=False)
        profiler.disable()
        gc.enable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())
    p.close()
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

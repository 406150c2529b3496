"""How does ``tessera serve --workers`` hold up under concurrent clients on PostgreSQL?

A load test on loopback with wrk (Debian's ``wrk``, a C load generator, so the
client does not eat the two cores the server needs as a Python client would):

- ``create``: ``POST /api/v1/records/lead`` with a generated lead per request;
- ``list``: ``GET /api/v1/records/lead?where=...&order_by=...&limit=20``, a
  filter and a sort on indexed fields;

each at 50 and 200 concurrent connections for ``--duration`` seconds, under two
load models:

- ``saturation`` (wrk's own, a closed loop): every connection sends its next
  request the moment the last one is answered. The server is always full, so
  latency is mostly queueing: clients / throughput. It measures capacity.
- ``think N ms`` (what locust and most load tools mean by "concurrent users"):
  each client waits a think time between its requests, drawn uniformly from
  0.5 to 1.5 times ``--think-ms``, so 200 clients with 1,000 ms offer about
  200 requests per second. It measures the latency a user sees at that load.
  Issue 7's goal is judged in this model. The clients are
  ``bench/think_client.py`` (users arrive over the first think time and send
  on connecting; the warm-up is left out of the samples); ``--think-driver
  wrk`` uses wrk's Lua ``delay()`` instead, which also delays each
  connection's first request and so pins gunicorn's threads (see there).

Against:

- Tessera behind gunicorn (``--workers`` × ``--threads``), signed in with an API
  token, so every request goes through authentication, the permission layer,
  validation, the audit row and the outbox;
- the limit: a hand-written WSGI app (``bench/load_hand.py``) on the same
  gunicorn settings that runs the same INSERT and SELECT with psycopg.

Reports p50/p99 latency, requests per second and errors (non-2xx and socket
errors), the CPU time per request of the server and its PostgreSQL backends
(read from /proc, so other work on a shared machine does not count), and the
ratios. The goal (issue 7) is p99 under 100 ms for create at
200 clients with no errors (judged in the think-time model; the saturation
figures stand beside it). ``--think-ms 0`` runs the saturation model only, as
the bench did before the think-time model was added.

Needs a PostgreSQL server (``--server``, a URL whose database the script may
create databases beside) and ``wrk`` (``apt-get install wrk``)::

    python bench/bench_load.py --server postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TESSERA_ARGON2_PROFILE", "CHEAPEST")

from bench.leads import LEAD_DEFINITION, generate_leads  # noqa: E402
from bench.think_client import run_think  # noqa: E402
from engine import Platform  # noqa: E402

WHERE = 'source == "website" and company_size >= 500'
ORDER_BY = "-company_size"

CREATE_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local body = string.format(
    '{"company":"Load %%d-%%d","contact_name":"Li Lei","status":"new","source":"website",'
    .. '"company_size":%%d,"email":"load%%d@example.com"}', id, counter, counter %% 5000, counter)
  return wrk.format("POST", "%(path)s", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "%(auth)s"}, body)
end
setup = function(thread) thread:set("id", math.random(1, 1000000)) end
"""

LIST_LUA = """
request = function()
  return wrk.format("GET", "%(path)s", {["Authorization"] = "%(auth)s"})
end
"""

#: Appended to a script for the think-time model: wrk waits ``delay()`` ms before a
#: connection's next request (not counted in the latency), uniform in [0.5, 1.5] x mean.
THINK_LUA = """
delay = function()
  return math.random(%(low)d, %(high)d)
end
"""


def http_request(case: str, path: str, auth: str, port: int) -> Callable[[int, int], bytes]:
    """The think-time clients' requests: the same create and list as the Lua scripts."""
    tag = random.randrange(1_000_000)
    head = f"Host: 127.0.0.1:{port}\r\nAuthorization: {auth}\r\n"
    if case == "list":
        data = f"GET {path} HTTP/1.1\r\n{head}\r\n".encode()
        return lambda client, n: data

    def create(client: int, n: int) -> bytes:
        body = (
            f'{{"company":"Load {tag}-{client}-{n}","contact_name":"Li Lei","status":"new",'
            f'"source":"website","company_size":{n % 5000},'
            f'"email":"load{tag}x{client}x{n}@example.com"}}'
        ).encode()
        return (
            f"POST {path} HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    return create


def model_name(think_ms: int) -> str:
    return f"think {think_ms} ms" if think_ms else "saturation"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_database(server: str, name: str) -> str:
    """A fresh database ``name`` on the server; returns its URL."""
    import psycopg

    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = server.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_database(server: str, name: str) -> None:
    import psycopg

    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(url: str, rows: int) -> tuple[str, str]:
    """The lead entity with ``rows`` records, an admin with a token; (token, table)."""
    with Platform(url) as p:
        p.meta.save("entity", "lead", LEAD_DEFINITION, user="bench")
        p.users.add("bench", password="bench-secret-1", roles=["admin"])
        token = p.users.create_token("bench", label="load")["token"]
        leads = generate_leads(rows, seed=5)
        for start in range(0, rows, 5000):
            p.records("lead").create_many(leads[start : start + 5000])
        table = p.entities.get("lead").table.name
        with p.db.transaction(write=True) as conn:
            conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS bench_size ON {table} (company_size)")
            conn.exec_driver_sql(f"ANALYZE {table}")
    return token, table


def start_server(args: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    stop(proc)
    raise SystemExit(f"server did not start:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def cpu_snapshot(group: int, server: str, database: str) -> dict[int, float]:
    """CPU seconds (user + system) so far of each process serving the bench: the
    server's process group (gunicorn master and workers) and the PostgreSQL
    backends connected to ``database``. Read from /proc, so the figure is the work
    done for the bench, whatever else the shared machine runs meanwhile."""
    import psycopg

    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        backends = [
            r[0]
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]
            ).fetchall()
        ]
    pids = [int(d) for d in os.listdir("/proc") if d.isdigit()]
    found: dict[int, float] = {}
    for pid in pids:
        fields = _stat(pid)
        if fields is None or not (int(fields[2]) == group or pid in backends):
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    return found


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two snapshots (a process born in between counts whole)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def settle(group: int, server: str, database: str) -> dict[int, float]:
    """Wait until the server has worked off what wrk left queued (under 5% of a core
    for half a second, at most a minute); the snapshot then. Without this a run's
    CPU would include the backlog of the run before it."""
    snap = cpu_snapshot(group, server, database)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.5)
        later = cpu_snapshot(group, server, database)
        if cpu_spent(snap, later) < 0.025:
            return later
        snap = later
    return snap


def count_rows(url: str, table: str) -> int:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, script: str, clients: int, seconds: int, tmp: Path) -> dict[str, float]:
    lua = tmp / f"wrk-{clients}-{abs(hash(script))}.lua"
    lua.write_text(script)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(clients),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(lua),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    dist = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)\s*$", out, re.M))
    if "99" not in dist or "Requests/sec:       0.00" in out:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    kinds = {"non-2xx": errors}
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
        kinds.update(zip(("connect", "read", "write", "timeout"), socket_errors.groups()))
    if errors:
        print(f"  errors: {kinds}", file=sys.stderr)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50": _ms(dist["50"]),
        "p99": _ms(dist["99"]),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("TESSERA_BENCH_PG"), required=False)
    parser.add_argument("--rows", type=int, default=50_000, help="leads loaded before the run")
    parser.add_argument("--duration", type=int, default=15, help="seconds per case")
    parser.add_argument("--clients", default="50,200")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--think-ms",
        type=int,
        default=1000,
        help="mean think time of the think-time model (0: saturation model only)",
    )
    parser.add_argument(
        "--think-driver",
        choices=("python", "wrk"),
        default="python",
        help="who plays the thinking clients: bench/think_client.py (users arrive spread over"
        " the first think time and send at once on connecting) or wrk's Lua delay(), which"
        " also delays each connection's first request (the figures before 2026-12-02 03:30)",
    )
    parser.add_argument(
        "--cases", default="create,list", help="which cases to run (create, list or both)"
    )
    parser.add_argument(
        "--servers",
        default="tessera,hand-written",
        help="which servers to run (the ratio columns need both)",
    )
    parser.add_argument(
        "--models",
        default="saturation,think",
        help="which load models to run (saturation, think or both)",
    )
    parser.add_argument(
        "--probe",
        action="store_true",
        help="run Tessera's workers with bench/load_probe (collections and per-request"
        " times inside the app) and print bench/load_stalls.py's summary per case",
    )
    args = parser.parse_args()
    if not args.server:
        parser.error("--server (or TESSERA_BENCH_PG): a PostgreSQL URL")
    if not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk)")

    name = f"tessera_load_{os.getpid()}"
    url = make_database(args.server, name)
    tmp = Path(tempfile.mkdtemp(prefix="load-"))
    results: dict[tuple[str, str, str, int], dict[str, float]] = {}
    wanted = set(args.models.split(","))
    models = ([0] if "saturation" in wanted else []) + (
        [args.think_ms] if args.think_ms > 0 and "think" in wanted else []
    )
    cases = args.cases.split(",")
    probe = tmp / "probe"
    windows: list[tuple[str, float, float, str]] = []
    try:
        t0 = time.perf_counter()
        token, table = prepare(url, args.rows)
        print(f"  loaded {args.rows:,} leads in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        env = dict(
            os.environ,
            TESSERA_DATABASE_URL=url,
            TESSERA_SECRET_KEY="load-bench",
            PYTHONPATH=str(ROOT),
            TESSERA_HAND_TABLE=table,
        )
        auth = f"Bearer {token}"
        query = urllib.parse.urlencode({"where": WHERE, "order_by": ORDER_BY, "limit": 20})
        servers = {
            "tessera": (
                [
                    sys.executable,
                    "-m",
                    "engine.cli",
                    "serve",
                    "--db",
                    url,
                    "--workers",
                    str(args.workers),
                    "--threads",
                    str(args.threads),
                ],
                "/api/v1/records/lead",
                f"/api/v1/records/lead?{query}",
            ),
            "hand-written": (
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--workers",
                    str(args.workers),
                    "--threads",
                    str(args.threads),
                    "--worker-class",
                    "gthread",
                    "bench.load_hand:app",
                ],
                "/leads",
                "/leads?f=1",
            ),
        }
        for server, (command, create_path, list_path) in servers.items():
            if server not in args.servers.split(","):
                continue
            server_env = env
            if args.probe and server == "tessera":
                probe.mkdir()
                server_env = dict(
                    env,
                    TESSERA_LOAD_PROBE=str(probe),
                    PYTHONPATH=f"{ROOT / 'bench' / 'load_probe'}{os.pathsep}{ROOT}",
                )
            port = free_port()
            if server == "tessera":
                command = [*command, "--port", str(port)]
            else:
                command = [*command, "--bind", f"127.0.0.1:{port}"]
            proc = start_server(command, server_env, port, tmp / f"{server}.log")
            try:
                base = f"http://127.0.0.1:{port}"
                for think in models:
                    model = model_name(think)
                    for clients in (int(c) for c in args.clients.split(",")):
                        for case, path, lua in (
                            ("create", create_path, CREATE_LUA),
                            ("list", list_path, LIST_LUA),
                        ):
                            if case not in cases:
                                continue
                            script = lua % {"path": path, "auth": auth}
                            python_think = think and args.think_driver == "python"
                            if think and not python_think:
                                script += THINK_LUA % {"low": think // 2, "high": think * 3 // 2}
                            if not python_think:
                                run_wrk(base + path, script, clients, 2, tmp)  # warm up
                            before = settle(proc.pid, args.server, name)
                            rows = count_rows(url, table)
                            window_start = time.perf_counter()
                            if python_think:  # its own warm-up, left out of the samples
                                r = run_think(
                                    "127.0.0.1",
                                    port,
                                    http_request(case, path, auth, port),
                                    clients,
                                    think,
                                    args.duration,
                                )
                            else:
                                r = run_wrk(base + path, script, clients, args.duration, tmp)
                            window_end = time.perf_counter()
                            spent = cpu_spent(before, settle(proc.pid, args.server, name))
                            if server == "tessera":
                                label = f"{model} {case} c={clients}"
                                windows.append((label, window_start, window_end, path))
                            # Creates served, counted in the table: wrk counts only the
                            # answers it got before it stopped; the server ends the rest.
                            served = count_rows(url, table) - rows if case == "create" else 0
                            r["cpu_ms"] = spent * 1000 / max(served or r["requests"], 1)
                            results[(server, model, case, clients)] = r
                            print(f"  {server} {model} {case} c={clients}: {r}", file=sys.stderr)
            finally:
                stop(proc)
            if args.probe and server == "tessera":
                from bench.load_stalls import summary

                for label, start, end, path in windows:
                    print(f"  probe, {label}:", file=sys.stderr)
                    for line in summary(probe, start, end, path.split("?")[0]):
                        print(f"    {line}", file=sys.stderr)
    finally:
        drop_database(args.server, name)
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"load bench, {dt.date.today()}, Python {sys.version.split()[0]}, PostgreSQL, "
        f"{os.cpu_count()} cores, gunicorn {args.workers} workers x {args.threads} threads, "
        f"wrk 2 threads, {args.duration}s per case, {args.rows:,} leads loaded first, "
        f"thinking clients: {args.think_driver}"
    )
    header = f"{'model':<15}{'case':<8}{'clients':>8}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}"
    print(
        f"{header}{'errors':>8}{'hand p50':>10}{'hand p99':>10}{'hand r/s':>10}"
        f"{'p99 x':>7}{'r/s x':>7}{'cpu ms':>8}{'hand cpu':>9}{'cpu x':>7}"
    )
    ok = True
    for (server, model, case, clients), r in results.items():
        if server != "tessera":
            continue
        h = results.get(("hand-written", model, case, clients))
        if h is None:  # --servers tessera: no ratios
            print(
                f"{model:<15}{case:<8}{clients:>8}{r['p50']:>9.1f}{r['p99']:>9.1f}"
                f"{r['rps']:>9.0f}{r['errors']:>8.0f}{'':>30}{'':>14}{r['cpu_ms']:>8.2f}"
            )
            ok = ok and r["errors"] == 0
            continue
        ok = ok and r["errors"] == 0
        print(
            f"{model:<15}{case:<8}{clients:>8}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['rps']:>9.0f}"
            f"{r['errors']:>8.0f}{h['p50']:>10.1f}{h['p99']:>10.1f}{h['rps']:>10.0f}"
            f"{r['p99'] / h['p99']:>6.1f}x{r['rps'] / h['rps']:>6.2f}x"
            f"{r['cpu_ms']:>8.2f}{h['cpu_ms']:>9.2f}{r['cpu_ms'] / h['cpu_ms']:>6.1f}x"
        )
    print(
        "cpu ms: CPU time per request of the server's processes and its PostgreSQL "
        "backends (from /proc; creates counted in the table), the figure that does "
        "not depend on other load"
    )
    if args.think_ms > 0:
        goal = results.get(("tessera", model_name(args.think_ms), "create", 200))
        if goal is not None:
            met = goal["p99"] < 100 and goal["errors"] == 0
            print(
                f"goal (issue 7, {model_name(args.think_ms)} model): create at 200 clients "
                f"p99 {goal['p99']:.1f} ms < 100 ms with no errors: {'met' if met else 'not met'}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

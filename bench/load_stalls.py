"""Read what ``bench/load_probe`` recorded in the server's workers during bench_load.py.

``python bench/bench_load.py ... --probe`` runs Tessera's workers with the probe
and prints this summary per load case: the garbage collections (how many per
generation, their total and longest pause), and the slowest 1% of requests
inside the app (wall time, their threads' own CPU time, and how many of them
overlapped a collection of gen 2). It answers "is the p99 a stall or queueing?":

- app p99 far below the client's p99: the time went before the app, waiting
  in gunicorn's queue for a thread (capacity, CPU per request);
- app p99 close to the client's, with thread CPU far below the wall time: the
  request waited inside the app (the GIL held by other threads or by a
  collection, PostgreSQL, a lock);
- long gen-2 collections overlapping the slow requests: the collector.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read(folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(collections, requests) of every process that wrote to ``folder``, each with its pid."""
    collections: list[dict[str, Any]] = []
    requests: list[dict[str, Any]] = []
    for path in folder.glob("*.jsonl"):
        pid = int(path.stem)
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            entry["pid"] = pid
            (collections if "gc" in entry else requests).append(entry)
    return collections, requests


def summary(folder: Path, start: float, end: float, prefix: str) -> list[str]:
    """Lines describing the collections and the requests whose path starts with ``prefix``
    between perf_counter times ``start`` and ``end`` (CLOCK_MONOTONIC, shared by processes)."""
    collections, requests = read(folder)
    collections = [c for c in collections if start <= c["at"] <= end]
    requests = [r for r in requests if start <= r["at"] <= end and prefix in r["req"]]
    lines = []
    for gen in (0, 1, 2):
        mine = [c for c in collections if c["gc"] == gen]
        if mine:
            walls = [c["s"] for c in mine]
            cpu = [c.get("cpu", 0.0) for c in mine]
            lines.append(
                f"gc gen {gen}: {len(mine)} collections, {sum(walls) * 1000:.1f} ms in all "
                f"(CPU {sum(cpu) * 1000:.1f}), longest {max(walls) * 1000:.2f} ms "
                f"(CPU {max(cpu) * 1000:.2f})"
            )
    if not requests:
        return [*lines, "no requests recorded"]
    walls = sorted(r["s"] for r in requests)
    cpus = sorted(r["cpu"] for r in requests)

    def pick(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    lines.append(
        f"in the app, {len(requests)} requests: wall p50 {pick(walls, 0.5):.1f} ms, "
        f"p99 {pick(walls, 0.99):.1f} ms, max {walls[-1] * 1000:.1f}; thread CPU p50 "
        f"{pick(cpus, 0.5):.2f} ms, p99 {pick(cpus, 0.99):.2f} ms"
    )
    slow = sorted(requests, key=lambda r: r["s"])[-max(1, len(requests) // 100) :]
    gen2 = [c for c in collections if c["gc"] == 2]
    overlapping = sum(
        any(r["pid"] == c["pid"] and r["at"] <= c["at"] <= r["at"] + r["s"] for c in gen2)
        for r in slow
    )
    lines.append(
        f"slowest 1% ({len(slow)}): wall {sum(r['s'] for r in slow) / len(slow) * 1000:.1f} ms, "
        f"thread CPU {sum(r['cpu'] for r in slow) / len(slow) * 1000:.2f} ms on average; "
        f"{sum(r['gcs'] > 0 for r in slow)} overlapped a collection, {overlapping} a gen-2 one"
    )
    firsts: dict[int, float] = {}
    for r in sorted(requests, key=lambda r: r["at"]):
        firsts.setdefault(r["pid"], r["s"])
    lines.append(
        "first request of each worker in the window: "
        + ", ".join(f"{s * 1000:.1f} ms" for s in firsts.values())
    )
    return lines


__all__ = ["read", "summary"]

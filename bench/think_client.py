"""Clients that think between requests: the think-time load model of ``bench_load.py``.

wrk's Lua ``delay()`` also delays each connection's *first* request, after wrk
has opened every connection at once. gunicorn's gthread worker (24 and later)
hands a freshly accepted connection to a worker thread that waits up to five
seconds for its first bytes, so two hundred connections that connect and then
think pin every thread, and the requests of the others queue behind them: even
the hand-written limit showed a p99 of 300-700 ms at 50 requests per second,
time spent waiting for a thread, not working. Browsers do not connect and then
think; a user arrives, connects and sends at once.

Here each client arrives at a random moment within its first think time,
connects, sends its first request at once, then keeps its keep-alive connection
and waits a think time (uniform in 0.5-1.5x the mean) after every answer. The
samples of the warm-up (``warmup`` seconds, every client arrived by then) are
left out. One asyncio loop in one process: at a few hundred requests per second
its CPU is a few percent of a core.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ThinkResult:
    """Latencies (seconds) of the requests sent after the warm-up, and what failed."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def fail(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def summary(self) -> dict[str, float]:
        """p50 and p99 in ms, requests per second and errors, as ``run_wrk`` gives them."""
        ordered = sorted(self.latencies)
        if not ordered:
            raise SystemExit(f"no request answered after the warm-up: {self.errors}")

        def pick(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

        return {
            "requests": len(ordered),
            "p50": pick(0.50),
            "p99": pick(0.99),
            "rps": len(ordered) / self.seconds,
            "errors": sum(self.errors.values()),
        }


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked); return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
    }
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _client(
    host: str,
    port: int,
    request: Callable[[int], bytes],
    think: float,
    warm_until: float,
    end: float,
    result: ThinkResult,
) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(random.uniform(0, think))  # users arrive over the first think time
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        result.fail("connect")
        return
    sent = 0
    try:
        while loop.time() < end:
            sent += 1
            data = request(sent)
            started = time.perf_counter()
            at = loop.time()
            writer.write(data)
            try:
                status = await asyncio.wait_for(_read_response(reader), 10)
            except TimeoutError:
                result.fail("timeout")
                return
            except (asyncio.IncompleteReadError, ConnectionError):
                result.fail("read")
                return
            if at >= warm_until:
                result.latencies.append(time.perf_counter() - started)
                if not 200 <= status < 400:
                    result.fail("non-2xx")
            await asyncio.sleep(random.uniform(0.5, 1.5) * think)
    finally:
        writer.close()


async def _run(
    host: str,
    port: int,
    request: Callable[[int, int], bytes],
    clients: int,
    think: float,
    warmup: float,
    duration: float,
) -> ThinkResult:
    loop = asyncio.get_running_loop()
    result = ThinkResult()
    start = loop.time()
    warm_until, end = start + warmup, start + warmup + duration
    await asyncio.gather(
        *(
            _client(host, port, lambda n, c=c: request(c, n), think, warm_until, end, result)
            for c in range(clients)
        )
    )
    result.seconds = duration
    return result


def run_think(
    host: str,
    port: int,
    request: Callable[[int, int], bytes],
    clients: int,
    think_ms: int,
    duration: float,
) -> dict[str, float]:
    """``clients`` thinking users for a warm-up of 1.5 think times plus ``duration`` seconds.

    ``request(client, n)`` gives the bytes of a client's n-th request (HTTP/1.1,
    keep-alive). Returns the summary of the requests sent after the warm-up.
    """
    think = think_ms / 1000
    result = asyncio.run(_run(host, port, request, clients, think, 1.5 * think, duration))
    if result.errors:
        print(f"  errors: {result.errors}")
    return result.summary()


__all__ = ["ThinkResult", "run_think"]

"""Where does a slow request of bench_load.py spend its time? A probe inside each worker.

Loaded by Python at start-up (``sitecustomize``) when ``bench/load_probe`` is on
the server's ``PYTHONPATH`` and ``TESSERA_LOAD_PROBE`` names a folder; nothing
happens otherwise. In every process it records:

- each garbage collection: generation, objects collected, wall time and the
  CPU time of the collecting thread (``gc.callbacks``), so a gen-2 pass over a big heap shows as a pause;
- each WSGI request of the Flask app: start, wall time inside the app, the CPU
  time of its thread (``time.thread_time``), and how many collections ran
  meanwhile (in any thread of the process: a collection stops them all).

and writes them as JSON lines to ``<folder>/<pid>.jsonl`` at exit. A request
whose wall time is far above its thread's CPU waited: for the GIL (another
thread's work or a collection), for PostgreSQL, or for a lock. The time the
client saw beyond the app's wall time was spent before the app: in gunicorn's
accept queue or waiting for a free thread. ``bench/load_stalls.py`` reads the
files.
"""

from __future__ import annotations

import os

_FOLDER = os.environ.get("TESSERA_LOAD_PROBE")

if _FOLDER:
    import atexit
    import gc
    import json
    import time

    _collections: list[tuple[float, int, int, float, float]] = []
    _requests: list[tuple[float, float, float, int, str]] = []
    _gc_started = [0.0, 0.0]
    _gc_count = [0]

    def _on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            _gc_started[0] = time.perf_counter()
            _gc_started[1] = time.thread_time()
        else:
            wall = time.perf_counter() - _gc_started[0]
            cpu = time.thread_time() - _gc_started[1]
            _gc_count[0] += 1
            _collections.append((_gc_started[0], info["generation"], info["collected"], wall, cpu))

    gc.callbacks.append(_on_gc)

    def _dump() -> None:
        path = os.path.join(_FOLDER, f"{os.getpid()}.jsonl")
        with open(path, "w") as out:
            for at, gen, collected, seconds, cpu in _collections:
                entry = {"gc": gen, "at": at, "n": collected, "s": seconds, "cpu": cpu}
                out.write(json.dumps(entry) + "\n")
            for at, wall, cpu, gcs, path_ in _requests:
                out.write(
                    json.dumps({"req": path_, "at": at, "s": wall, "cpu": cpu, "gcs": gcs}) + "\n"
                )

    atexit.register(_dump)

    def _install() -> None:
        import flask

        original = flask.Flask.wsgi_app

        def wsgi_app(self, environ, start_response):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            cpu = time.thread_time()
            gcs = _gc_count[0]
            try:
                return original(self, environ, start_response)
            finally:
                _requests.append(
                    (
                        started,
                        time.perf_counter() - started,
                        time.thread_time() - cpu,
                        _gc_count[0] - gcs,
                        environ.get("REQUEST_METHOD", "") + " " + environ.get("PATH_INFO", ""),
                    )
                )

        flask.Flask.wsgi_app = wsgi_app

    _install()

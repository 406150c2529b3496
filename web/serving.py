"""Production serving: gunicorn's pre-forked workers, each with its own platform.

``tessera serve --workers N`` runs this. Gunicorn (a well-kept, pure-Python
pre-fork server) gives us worker supervision, graceful restarts and request
timeouts without writing our own. The app is built in each worker after the
fork (``preload_app`` stays off), so every worker opens its own database pool
and job-runner state; sharing a SQLAlchemy engine across a fork would hand
two processes the same sockets.
"""

from __future__ import annotations

from typing import Any


def serve_production(url: str | None, *, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the web app on ``host:port`` from ``workers`` processes of ``threads`` threads."""
    import os
    import secrets

    from gunicorn.app.base import BaseApplication

    # Every worker must sign sessions with the same key, or a sign-in made in one
    # worker is unknown to the next: without a configured key, make one here,
    # before the fork, for this server's lifetime.
    from engine.config import setting

    if not setting("secret_key"):
        os.environ["TESSERA_SECRET_KEY"] = secrets.token_hex(32)
    # Each worker's threads hold a database connection each while they serve; a pool
    # smaller than that closes and reopens connections under load (see Database).
    if not setting("db_pool_size"):
        os.environ["TESSERA_DB_POOL_SIZE"] = str(max(5, threads))

    # Workers start at once: let one process create or upgrade the system tables
    # first, so they do not race to create the same table.
    from engine.platform import Platform

    Platform(url).close()

    class _Tessera(BaseApplication):  # gunicorn's documented embedding hook
        def load_config(self) -> None:
            settings = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread" if threads > 1 else "sync",
                "preload_app": False,
                "accesslog": None,
                "timeout": 60,
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:  # in each worker, after the fork
            from engine.platform import Platform
            from web.app import create_app
            from web.warm import warm_worker

            app = create_app(Platform(url))
            warm_worker(app, connections=threads)
            return app

    _Tessera().run()


__all__ = ["serve_production"]

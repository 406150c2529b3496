"""The WSGI entry point for production servers: ``gunicorn 'web.wsgi:app'``.

The database and the rest of the settings come from the environment or the
configuration file (``TESSERA_DATABASE_URL``, ``TESSERA_SECRET_KEY``, see
docs/operations.md), so any WSGI server can serve Tessera without a launcher of
ours. Each pre-forked worker imports this module after the fork and so opens its
own connection pool; nothing database-bound is shared across processes, and
warms itself before serving (:mod:`web.warm`).
"""

from __future__ import annotations

from web.app import create_app
from web.warm import warm_worker

app = create_app()
warm_worker(app)  # the first requests do not wait on compilation; the heap frozen

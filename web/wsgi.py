"""The WSGI entry point for production servers: ``gunicorn 'web.wsgi:app'``.

The database and the rest of the settings come from the environment or the
configuration file (``TESSERA_DATABASE_URL``, ``TESSERA_SECRET_KEY``, see
docs/operations.md), so any WSGI server can serve Tessera without a launcher of
ours. Each pre-forked worker imports this module after the fork and so opens its
own connection pool; nothing database-bound is shared across processes.
"""

from __future__ import annotations

from web.app import create_app

app = create_app()

"""One installed CRM per test module: installing the bundle takes seconds, so the HTTP tests
share it (each test makes its own records). Users and teams come from the bundle's demo recipe.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import database_url

CRM = Path(__file__).resolve().parents[2] / "apps" / "crm"


@pytest.fixture(scope="module")
def module_db_url(tmp_path_factory) -> Iterator[str]:
    """Like ``db_url``, for a whole module."""
    with database_url(tmp_path_factory.mktemp("crm"), "crm") as url:
        yield url


@pytest.fixture(scope="module")
def crm(module_db_url) -> Iterator[Any]:
    """A platform with the CRM installed and the demo recipe's users and teams (no data)."""
    from engine import Platform
    from engine.demo import DemoReport, load_recipe, setup_people

    p = Platform(module_db_url)
    try:
        p.install(CRM)
        setup_people(p, load_recipe(CRM), DemoReport())
        yield p
    finally:
        p.close()


@pytest.fixture(scope="module")
def crm_server(crm) -> Iterator[str]:
    from web.app import create_app

    app = create_app(crm, config={"SECRET_KEY": "test-secret"})
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)

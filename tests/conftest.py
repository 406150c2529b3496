"""Shared fixtures: a fresh database per test, on SQLite or on the PostgreSQL server CI starts.

``TESSERA_TEST_DATABASE_URL`` picks the server (a ``postgresql+psycopg://`` URL); without it
every test gets its own SQLite file. On PostgreSQL each test gets its own schema, so tests stay
independent without creating a database per test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Password hashing at full strength costs ~100 ms a hash; tests need the behaviour, not the cost.
os.environ.setdefault("TESSERA_ARGON2_PROFILE", "CHEAPEST")

SERVER_URL = os.environ.get("TESSERA_TEST_DATABASE_URL", "").strip()


def on_postgres() -> bool:
    return SERVER_URL.startswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if on_postgres():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set TESSERA_TEST_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@contextmanager
def database_url(folder: Any, prefix: str = "t") -> Iterator[str]:
    """A URL to an empty database: a SQLite file in ``folder``, or a fresh PostgreSQL schema."""
    if not on_postgres():
        yield f"sqlite:///{folder / 'tessera.db'}"
        return
    from sqlalchemy import create_engine, text

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(SERVER_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in SERVER_URL else "?"
    try:
        yield f"{SERVER_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db_url(tmp_path) -> Iterator[str]:
    """A URL to an empty database that lives for one test."""
    with database_url(tmp_path) as url:
        yield url


@pytest.fixture
def platform(db_url):
    """A new platform on an empty database, closed after the test."""
    from engine import Platform

    p = Platform(db_url)
    try:
        yield p
    finally:
        p.close()

"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

UTC = dt.UTC

# SQLite only auto-assigns rowids to INTEGER PRIMARY KEY columns.
IdType = BigInteger().with_variant(Integer(), "sqlite")

# JSONB on PostgreSQL gives containment (@>) and GIN indexes for list fields.
JsonType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class UTCDateTime(TypeDecorator):
    """A time-zone-aware datetime stored in UTC on every dialect.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so the value is
    stored as naive UTC and read back with ``tzinfo=UTC``. Naive input is
    refused: silently guessing a zone is how datetimes go wrong.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Seconds(TypeDecorator):
    """A duration stored as whole seconds (BIGINT): a ``timedelta`` is bound as its
    seconds (no driver stores one in an integer column), an int as it is; read as the
    integer, which the duration field type turns back into a ``timedelta``."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, dt.timedelta):
            return int(value.total_seconds())
        return value

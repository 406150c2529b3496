"""Per-user settings (preferred language, page sizes, ...): one row per user and key.

A table of its own rather than columns on ``ts_user``: the browser app and the
builders keep adding preferences, and a new key needs no schema change on a
database that is already in use. Values are JSON, so a setting can be a list or
an object as well as a word.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Column, String, Table, Text, cast, delete, func, insert, select, update
from sqlalchemy.sql.elements import ColumnElement

from engine.errors import ValidationError, error_entry
from engine.i18n import t
from engine.security.memo import remembered
from engine.store.system import system_metadata

settings_table = Table(
    "ts_user_setting",
    system_metadata,
    Column("user", String(64), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),  # JSON
)

#: Keys a user may set, and a check for each value.
KNOWN: dict[str, Any] = {
    "lang": lambda v: v in ("en", "zh-CN"),
}


class UserSettings:
    """``p.users.settings``: read and write one user's preferences."""

    def __init__(self, platform: Any) -> None:
        self.p = platform

    def all(self, user: str) -> dict[str, Any]:
        # Read from the database in each unit of work (a request), never kept longer: a
        # change made by another worker (or process) shows at the next request. The
        # sign-in read of a request already brought them along (see settings_column).
        memo = remembered.get()
        if memo is not None and (user, _SETTINGS) in memo:
            return dict(memo[user, _SETTINGS])
        with self.p.db.transaction(write=False) as conn:
            rows = conn.execute(
                select(settings_table.c.key, settings_table.c.value).where(
                    settings_table.c.user == user
                )
            ).all()
        found = {key: orjson.loads(value) for key, value in rows}
        if memo is not None:
            memo[user, _SETTINGS] = found
        return dict(found)

    def get(self, user: str, key: str, default: Any = None) -> Any:
        return self.all(user).get(key, default)

    def set(self, user: str, key: str, value: Any) -> None:
        """Store ``value`` under ``key``; ``None`` removes the setting."""
        check = KNOWN.get(key)
        if check is None:
            raise ValidationError(
                t("unknown setting {key!r}", key=key),
                [
                    error_entry(
                        t("known settings: {known}", known=", ".join(sorted(KNOWN))), field=key
                    )
                ],
            )
        if value is not None and not check(value):
            raise ValidationError(
                t("{value!r} is not a valid {key}", value=value, key=key),
                [error_entry(t("not an allowed value"), field=key)],
            )
        self.p.users.get(user)
        if (memo := remembered.get()) is not None:
            memo.pop((user, _SETTINGS), None)
        where = (settings_table.c.user == user) & (settings_table.c.key == key)
        with self.p.db.transaction(write=True) as conn:
            if value is None:
                conn.execute(delete(settings_table).where(where))
                return
            text = orjson.dumps(value).decode()
            done = conn.execute(update(settings_table).where(where).values(value=text))
            if done.rowcount == 0:
                conn.execute(insert(settings_table).values(user=user, key=key, value=text))


#: The key under which a unit of work remembers a user's settings, beside the user.
_SETTINGS = "settings"


def settings_column(dialect: str, user: ColumnElement) -> ColumnElement:
    """A scalar subquery: ``user``'s settings as one JSON object of JSON texts.

    Added to the statement that reads a user at sign-in, so a request learns
    who is calling and their language in one statement instead of two.
    """
    agg = func.json_object_agg if dialect == "postgresql" else func.json_group_object
    return (
        select(cast(agg(settings_table.c.key, settings_table.c.value), Text))
        .where(settings_table.c.user == user)
        .scalar_subquery()
        .label("settings")
    )


def remember_settings(user: str, aggregated: str | None) -> None:
    """Keep ``user``'s settings read through :func:`settings_column` for this unit of work."""
    memo = remembered.get()
    if memo is not None:
        values = orjson.loads(aggregated or "{}")
        memo[user, _SETTINGS] = {key: orjson.loads(value) for key, value in values.items()}


__all__ = ["KNOWN", "UserSettings", "remember_settings", "settings_column", "settings_table"]

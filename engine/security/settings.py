"""Per-user settings (preferred language, page sizes, ...): one row per user and key.

A table of its own rather than columns on ``ts_user``: the browser app and the
builders keep adding preferences, and a new key needs no schema change on a
database that is already in use. Values are JSON, so a setting can be a list or
an object as well as a word.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Column, String, Table, Text, delete, insert, select, update

from engine.errors import ValidationError, error_entry
from engine.i18n import t
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
        # Read every time: a change made by another worker (or process) shows at once.
        with self.p.db.transaction(write=False) as conn:
            rows = conn.execute(
                select(settings_table.c.key, settings_table.c.value).where(
                    settings_table.c.user == user
                )
            ).all()
        return {key: orjson.loads(value) for key, value in rows}

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
        where = (settings_table.c.user == user) & (settings_table.c.key == key)
        with self.p.db.transaction(write=True) as conn:
            if value is None:
                conn.execute(delete(settings_table).where(where))
                return
            text = orjson.dumps(value).decode()
            done = conn.execute(update(settings_table).where(where).values(value=text))
            if done.rowcount == 0:
                conn.execute(insert(settings_table).values(user=user, key=key, value=text))


__all__ = ["KNOWN", "UserSettings", "settings_table"]

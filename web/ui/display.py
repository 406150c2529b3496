"""A stored value as the record page shows it: option labels, titles of referenced
records the viewer may read, local date-times, currencies.

Shared by the record page and the record actions' dialogs, so both show a value
the same way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import g

from web.http import platform_of
from web.i18n import gettext, label


def display_value(f: Any, value: Any) -> str:
    """A stored value as text for the record page (language-aware for options)."""
    if value is None or value == "" or value == []:
        return ""
    if f.child is not None:
        return ""  # the rows are drawn as a table
    if f.ref is not None and not isinstance(value, list):
        return record_title(f.ref, value)
    names = f.prop.get("x-options-labels") or {}
    if isinstance(value, list):
        return ", ".join(label(names.get(v), str(v)) for v in value)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, dt.datetime):
        return value.astimezone(platform_of().clock.timezone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Decimal) and f.type.name == "currency":
        return f"{value:,.2f} {f.prop.get('x-currency', '')}".strip()
    if isinstance(value, str) and value in names:
        return label(names[value], value)
    return str(value)


def record_title(entity: str, record_id: Any) -> str:
    """The title of a referenced record the user may read, else its id."""
    p = platform_of()
    try:
        ref = p.records(entity, g.user).get(int(record_id))
    except Exception:  # not visible to this user, or gone: show the id only
        return f"#{record_id}"
    title = p.entities.get(entity).model.title_field
    return str(ref.get(title) or f"#{record_id}") if title else f"#{record_id}"


__all__ = ["display_value", "record_title"]

"""Global search: records whose title or searchable text fields contain a phrase.

Every readable entity takes part, within the user's row scope; a field hidden
from the user is never searched (a match on it would leak its content). The
phrase is a bound parameter with LIKE wildcards escaped, matched without regard
to case. Searchable fields are the entity's title field, indexed text fields
and e-mail and phone fields: the ones people type from memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

#: Text kinds people search by besides the title.
_SEARCHABLE_TYPES = {"phone", "email"}


@dataclass(frozen=True)
class Hit:
    entity: str
    id: int
    title: str
    matched: str  # the field that matched


def searchable_fields(model: Any) -> list[str]:
    """The fields of ``model`` search looks in: title first, then indexed or contact text."""
    keys: list[str] = []
    title = model.title_field
    if title and title in model.fields and model.fields[title].stored:
        keys.append(title)
    for f in model.fields.values():
        if f.key in keys or f.removed or not f.stored or f.prop.get("type") != "string":
            continue
        if f.ref or "enum" in f.prop:
            continue
        if f.indexed or f.prop.get("format") == "email" or f.type.name in _SEARCHABLE_TYPES:
            keys.append(f.key)
    return keys


def search(platform: Any, user: str, phrase: str, *, per_entity: int = 5) -> list[Hit]:
    """Up to ``per_entity`` hits in each entity ``user`` may read, in entity-name order."""
    phrase = (phrase or "").strip().lower()
    if not phrase:
        return []
    access = platform.access(user)
    hits: list[Hit] = []
    for entity in platform.entities.names():
        if not access.scopes(entity, "read"):
            continue
        live = platform.entities.get(entity)
        model, table = live.model, live.table
        hidden = access.hidden(entity)
        keys = [k for k in searchable_fields(model) if k not in hidden]
        if not keys:
            continue
        columns = {k: table.c[model.fields[k].column] for k in keys}
        matches = [func.lower(col).contains(phrase, autoescape=True) for col in columns.values()]
        stmt = (
            select(table.c.id, *columns.values())
            .where(or_(*matches), access.clause(entity, "read", table))
            .order_by(table.c.id.desc())
            .limit(per_entity)
        )
        with platform.db.transaction(write=False) as conn:
            rows = conn.execute(stmt).all()
        for row in rows:
            values = dict(zip(keys, row[1:], strict=True))
            matched = next(k for k in keys if phrase in str(values[k] or "").lower())
            title = values.get(model.title_field or "") or values[matched]
            hits.append(Hit(entity, int(row[0]), str(title), matched))
    return hits


__all__ = ["Hit", "search", "searchable_fields"]

"""Comments on records: who said what, when; shown on the record page's timeline.

A comment is plain text (never HTML) of at most :data:`MAX_LENGTH` characters.
Writing one needs read access to the record (a user comments on what they
can see); reading them too. The system (``user=None``) skips the check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from engine.errors import ValidationError, error_entry
from engine.store.system import comments

if TYPE_CHECKING:
    from engine.platform import Platform

MAX_LENGTH = 4000


def add(
    platform: Platform, entity: str, record_id: int, body: str, *, user: str | None
) -> dict[str, Any]:
    """Store a comment by ``user`` on a record they may read; returns it."""
    text = (body or "").strip()
    if not text:
        raise ValidationError("a comment needs text", [error_entry("empty", field="body")])
    if len(text) > MAX_LENGTH:
        raise ValidationError(
            f"a comment is at most {MAX_LENGTH} characters",
            [error_entry(f"{len(text)} characters", field="body")],
        )
    platform.records(entity, user).get(record_id)  # NotFound / PermissionDenied
    row = {
        "entity": entity,
        "record_id": record_id,
        "author": user,
        "at": platform.clock.now(),
        "body": text,
    }
    with platform.db.transaction() as conn:
        new_id = conn.execute(insert(comments).values(**row)).inserted_primary_key[0]
    return {"id": new_id, **row}


def for_record(
    platform: Platform, entity: str, record_id: int, *, user: str | None
) -> list[dict[str, Any]]:
    """The record's comments, oldest first (the user must be able to read the record)."""
    platform.records(entity, user).get(record_id)
    with platform.db.transaction(write=False) as conn:
        rows = conn.execute(
            select(comments)
            .where(comments.c.entity == entity, comments.c.record_id == record_id)
            .order_by(comments.c.id)
        ).mappings()
        return [dict(r) for r in rows]


__all__ = ["MAX_LENGTH", "add", "for_record"]

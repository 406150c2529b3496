"""One-time answer links: a web form that fills in one existing record for someone outside.

A form whose definition has ``answers`` (``answers: {expires_in: 14d}``) does not
create records: it updates the record a link points at, such as the survey a
customer is asked to answer. The link carries a random token (``secrets``, 256
bits); only its SHA-256 digest is stored, so a copy of the database gives no
working links. A token opens one record of one form, until it expires or is
used: the update and the mark "used" commit in one transaction, so a link
answers exactly once even when two people press Send at the same moment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Column, Index, String, Table, insert, select, update
from sqlalchemy.engine import Connection

from engine.errors import NotFound, TesseraError, error_entry
from engine.store.system import system_metadata
from engine.store.types import IdType, UTCDateTime

webform_links = Table(
    "ts_webform_link",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("form", String(63), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("created_on", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Index("ix_ts_webform_link_record", "form", "record_id"),
)

DEFAULT_LIFETIME = dt.timedelta(days=14)
_LIFETIME = re.compile(r"^(\d+)([hd])$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


class LinkExpired(TesseraError):
    """The answer link is past its ``expires_in``."""


class LinkUsed(TesseraError):
    """The answer link was used already: an answer is given once."""


@dataclass(frozen=True)
class AnswerLink:
    """A link a flow or a person hands out: the token and the path of the page it opens."""

    form: str
    record_id: int
    token: str
    expires_at: dt.datetime

    @property
    def path(self) -> str:
        return f"/f/{self.form}/a/{self.token}"


def lifetime(definition: dict[str, Any]) -> dt.timedelta:
    """How long a link of the form stays open (``answers.expires_in``: ``48h`` or ``14d``)."""
    text = str((definition.get("answers") or {}).get("expires_in") or "")
    m = _LIFETIME.match(text)
    if not m:
        return DEFAULT_LIFETIME
    n = int(m.group(1))
    return dt.timedelta(hours=n) if m.group(2) == "h" else dt.timedelta(days=n)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    conn: Connection, form: str, record_id: int, now: dt.datetime, life: dt.timedelta
) -> AnswerLink:
    """Store a new link for ``record_id`` of ``form`` and return it (the token is shown once)."""
    token = secrets.token_urlsafe(32)
    expires = now + life
    conn.execute(
        insert(webform_links).values(
            digest=digest(token),
            form=form,
            record_id=int(record_id),
            created_on=now,
            expires_at=expires,
        )
    )
    return AnswerLink(form, int(record_id), token, expires)


def find(conn: Connection, form: str, token: str, now: dt.datetime, *, lock: bool = False) -> int:
    """The record id the token opens; NotFound, LinkExpired or LinkUsed otherwise."""
    t = webform_links
    row = None
    if _TOKEN.match(token or ""):
        stmt = select(t).where(t.c.digest == digest(token), t.c.form == form)
        if lock and conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).mappings().first()
    if row is None:
        raise NotFound("no such answer link", [error_entry("unknown link", field="token")])
    if row["used_at"] is not None:
        raise LinkUsed("the answer link was used", [error_entry("already answered", field="token")])
    if row["expires_at"] <= now:
        raise LinkExpired("the answer link expired", [error_entry("link expired", field="token")])
    return int(row["record_id"])


def mark_used(conn: Connection, form: str, token: str, now: dt.datetime) -> None:
    """Close the link; LinkUsed when another answer closed it first."""
    t = webform_links
    done = conn.execute(
        update(t)
        .where(t.c.digest == digest(token), t.c.form == form, t.c.used_at.is_(None))
        .values(used_at=now)
    )
    if not done.rowcount:
        raise LinkUsed("the answer link was used", [error_entry("already answered", field="token")])


__all__ = [
    "DEFAULT_LIFETIME",
    "AnswerLink",
    "LinkExpired",
    "LinkUsed",
    "find",
    "issue",
    "lifetime",
    "mark_used",
    "webform_links",
]

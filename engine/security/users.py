"""Users, passwords and API tokens.

Passwords are hashed with Argon2id (``argon2-cffi``: memory-hard, salted,
parameters stored in the hash so they can be raised later). Repeated wrong
passwords lock the account for a while, so guessing is slow even from many
addresses. API tokens are random (256 bits), shown once, and stored as a
SHA-256 digest: a token is not a password a person chose, so a fast hash of a
high-entropy secret is enough and lets every request check it cheaply.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
from contextvars import Token
from typing import Any

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    insert,
    select,
    update,
)

from engine.errors import ConflictError, NotFound, ValidationError, error_entry
from engine.i18n import t
from engine.security.memo import remembered
from engine.store.fixed import FixedStatement
from engine.store.system import system_metadata
from engine.store.types import IdType, UTCDateTime

#: Wrong passwords in a row before the account locks, and for how long.
MAX_FAILURES = 5
LOCK_FOR = dt.timedelta(minutes=15)
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
#: How stale a token's ``last_used_on`` may get before a request writes it again:
#: a write per request would make every API call a write transaction.
LAST_USED_EVERY = dt.timedelta(minutes=5)


def _make_hasher() -> PasswordHasher:
    """Argon2id with RFC 9106's low-memory profile; ``TESSERA_ARGON2_PROFILE=CHEAPEST``
    (tests only) trades strength for speed, and hashes keep their own parameters, so a
    later, stronger setting re-hashes each password at its next login."""
    from argon2 import profiles

    name = os.environ.get("TESSERA_ARGON2_PROFILE", "RFC_9106_LOW_MEMORY")
    return PasswordHasher.from_parameters(getattr(profiles, name))


_hasher = _make_hasher()

users_table = Table(
    "ts_user",
    system_metadata,
    Column("name", String(64), primary_key=True),
    Column("label", Text),
    Column("email", String(320)),
    Column("password_hash", Text),
    Column("team", String(64)),
    Column("manager", String(64)),
    Column("roles", Text, nullable=False, default="[]"),  # JSON list of role names
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime),
    Column("created_on", UTCDateTime, nullable=False),
)

tokens_table = Table(
    "ts_token",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("user", String(64), nullable=False, index=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("label", Text),
    Column("created_on", UTCDateTime, nullable=False),
    Column("expires_on", UTCDateTime),
    Column("revoked_on", UTCDateTime),
    Column("last_used_on", UTCDateTime),
)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: The user columns :func:`_public` reads.
_PUBLIC_COLUMNS = ("name", "label", "email", "team", "manager", "roles", "active")


def _public(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "label": row.label,
        "email": row.email,
        "team": row.team,
        "manager": row.manager,
        "roles": orjson.loads(row.roles or "[]"),
        "active": bool(row.active),
    }


class UserService:
    """``p.users``: add users, check passwords, issue and verify API tokens."""

    def __init__(self, platform: Any) -> None:
        from engine.security.settings import UserSettings

        self.p = platform
        self.settings = UserSettings(platform)
        self._signin_reads: tuple[Any, Any] | None = None

    def _reads(self) -> tuple[Any, Any]:
        """The two sign-in statements (a user by name, a token's user by digest), built once.

        Both run on every request; built anew each time, their construction and
        cache key cost as much as their round trip. The values are bound
        parameters, so the statements themselves hold no data.
        """
        if self._signin_reads is None:
            from engine.security.settings import settings_column

            settings = settings_column(self.p.db.dialect, users_table.c.name)
            # Only what _public and the token checks read: the password hash and the
            # login counters stay in the database, and there is less to convert per request.
            public = [users_table.c[k] for k in _PUBLIC_COLUMNS]
            by_name = select(*public, settings).where(users_table.c.name == bindparam("name"))
            by_digest = (
                select(
                    *public,
                    tokens_table.c.id.label("token_id"),
                    tokens_table.c.revoked_on,
                    tokens_table.c.expires_on,
                    tokens_table.c.last_used_on,
                    settings,
                )
                .join(users_table, users_table.c.name == tokens_table.c.user)
                .where(tokens_table.c.digest == bindparam("digest"))
            )
            self._signin_reads = (FixedStatement(by_name), FixedStatement(by_digest))
        return self._signin_reads

    # ------------------------------------------------------------ users

    def add(
        self,
        name: str,
        *,
        password: str | None = None,
        roles: list[str] | tuple[str, ...] = (),
        team: str | None = None,
        manager: str | None = None,
        email: str | None = None,
        label: str | None = None,
    ) -> dict[str, Any]:
        """Create a user; raises ConflictError when the name is taken."""
        if not _NAME.match(name or ""):
            raise ValidationError(
                t("{name} is not a user name", name=repr(name)),
                [error_entry(t("use 1-64 letters, digits, _ . @ or -"), field="name")],
            )
        if password is not None:
            _check_password(password)
        with self.p.db.transaction(write=True) as conn:
            found = conn.execute(select(users_table.c.name).where(users_table.c.name == name))
            if found.first() is not None:
                raise ConflictError(
                    t("user {name} exists", name=repr(name)),
                    [error_entry(t("pick another name"), field="name")],
                )
            conn.execute(
                insert(users_table).values(
                    name=name,
                    label=label,
                    email=email,
                    password_hash=_hasher.hash(password) if password is not None else None,
                    team=team,
                    manager=manager,
                    roles=orjson.dumps(sorted(set(roles))).decode(),
                    active=True,
                    failed_logins=0,
                    created_on=self.p.clock.now(),
                )
            )
        self.p.security_changed()
        return self.get(name)

    def get(self, name: str) -> dict[str, Any]:
        """The user's public attributes (never the hash); raises NotFound."""
        found = self.find(name)
        if found is None:
            raise NotFound(
                t("no user named {name}", name=repr(name)),
                [error_entry(t("unknown user"), field="user")],
            )
        return found

    def find(self, name: str | None) -> dict[str, Any] | None:
        if name is None:
            return None
        memo = remembered.get()
        if memo is not None and name in memo:
            found = memo[name]
            return None if found is None else dict(found)
        from engine.security.settings import remember_settings

        with self.p.db.read_once() as conn:
            row = next(iter(self._reads()[0].rows(conn, {"name": name})), None)
        found = None if row is None else _public(row)
        if memo is not None:
            memo[name] = found
            if row is not None:
                remember_settings(name, row.settings)
        return None if found is None else dict(found)

    @staticmethod
    def remember() -> Token:
        """Start a unit of work (a request) in which each user is read once; pass the
        returned token to :meth:`forget` when it ends."""
        return remembered.set({})

    @staticmethod
    def forget(token: Token | None = None) -> None:
        """End the unit of work ``token`` started, or (no token) drop what it remembered."""
        if token is not None:
            remembered.reset(token)
        elif (memo := remembered.get()) is not None:
            memo.clear()

    def directory(self) -> list[dict[str, Any]]:
        """Active users' names and labels, by name (to pick someone to hand work to)."""
        with self.p.db.transaction(write=False) as conn:
            rows = conn.execute(
                select(users_table.c.name, users_table.c.label)
                .where(users_table.c.active.is_(True))
                .order_by(users_table.c.name)
            ).all()
        return [{"name": r.name, "label": r.label} for r in rows]

    def update(self, name: str, **changes: Any) -> dict[str, Any]:
        """Change roles, team, manager, email, label or active."""
        allowed = {"roles", "team", "manager", "email", "label", "active"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError(
                "cannot change " + ", ".join(sorted(unknown)),
                [error_entry(f"{k} cannot be changed here", field=k) for k in sorted(unknown)],
            )
        if "roles" in changes:
            changes["roles"] = orjson.dumps(sorted(set(changes["roles"]))).decode()
        self.get(name)
        with self.p.db.transaction(write=True) as conn:
            conn.execute(update(users_table).where(users_table.c.name == name).values(**changes))
        self.p.security_changed()
        return self.get(name)

    def set_password(self, name: str, password: str) -> None:
        _check_password(password)
        self.get(name)
        with self.p.db.transaction(write=True) as conn:
            conn.execute(
                update(users_table)
                .where(users_table.c.name == name)
                .values(password_hash=_hasher.hash(password), failed_logins=0, locked_until=None)
            )

    def authenticate(self, name: str, password: str) -> dict[str, Any] | None:
        """The user when the password is right; None otherwise (and while locked)."""
        now = self.p.clock.now()
        with self.p.db.transaction(write=True) as conn:
            row = conn.execute(select(users_table).where(users_table.c.name == name)).first()
            if row is None or not row.active or row.password_hash is None:
                _hasher.hash(password)  # same work for unknown users: no timing oracle
                return None
            if row.locked_until is not None and row.locked_until > now:
                return None
            try:
                _hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                failures = row.failed_logins + 1
                values: dict[str, Any] = {"failed_logins": failures}
                if failures >= MAX_FAILURES:
                    values.update(failed_logins=0, locked_until=now + LOCK_FOR)
                conn.execute(update(users_table).where(users_table.c.name == name).values(**values))
                return None
            values = {"failed_logins": 0, "locked_until": None}
            if _hasher.check_needs_rehash(row.password_hash):
                values["password_hash"] = _hasher.hash(password)
            conn.execute(update(users_table).where(users_table.c.name == name).values(**values))
        return _public(row)

    # ------------------------------------------------------------ tokens

    def create_token(
        self, name: str, *, label: str | None = None, expires_in: dt.timedelta | None = None
    ) -> dict[str, Any]:
        """A new API token for ``name``: ``{"id", "token"}``; the token is shown only now."""
        self.get(name)
        token = "tsr_" + secrets.token_urlsafe(32)
        now = self.p.clock.now()
        with self.p.db.transaction(write=True) as conn:
            token_id = conn.execute(
                insert(tokens_table).values(
                    user=name,
                    digest=_digest(token),
                    label=label,
                    created_on=now,
                    expires_on=now + expires_in if expires_in else None,
                )
            ).inserted_primary_key[0]
        return {"id": token_id, "token": token}

    def verify_token(self, token: str) -> dict[str, Any] | None:
        """The token's user, or None when it is unknown, expired, revoked or the user inactive.

        One statement reads the token, its user and the user's settings (the
        request's language), outside a transaction on PostgreSQL (one round trip);
        the token is found by its SHA-256 digest, an indexed equality, so no
        secret is compared in Python. ``last_used_on`` is written only when it
        is older than :data:`LAST_USED_EVERY`, so a busy client costs no write per call.
        """
        from engine.security.settings import remember_settings

        now = self.p.clock.now()
        with self.p.db.read_once() as conn:
            row = next(iter(self._reads()[1].rows(conn, {"digest": _digest(token or "")})), None)
        if row is None or row.revoked_on is not None:
            return None
        if row.expires_on is not None and row.expires_on <= now:
            return None
        if row.last_used_on is None or now - row.last_used_on >= LAST_USED_EVERY:
            with self.p.db.transaction(write=True) as conn:
                conn.execute(
                    update(tokens_table)
                    .where(tokens_table.c.id == row.token_id)
                    .values(last_used_on=now)
                )
        user = _public(row)
        if (memo := remembered.get()) is not None:
            memo[user["name"]] = user
            remember_settings(user["name"], row.settings)
        return dict(user) if user["active"] else None

    def revoke_token(self, token_id: int) -> None:
        with self.p.db.transaction(write=True) as conn:
            done = conn.execute(
                update(tokens_table)
                .where(tokens_table.c.id == token_id, tokens_table.c.revoked_on.is_(None))
                .values(revoked_on=self.p.clock.now())
            )
        if done.rowcount == 0:
            raise NotFound(f"no active token {token_id}", [error_entry("unknown token")])


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < 8:
        raise ValidationError(
            t("the password is too short"),
            [error_entry(t("a password has at least 8 characters"), field="password")],
        )
    if len(password) > 1024:
        raise ValidationError(
            t("the password is too long"),
            [error_entry(t("a password has at most 1,024 characters"), field="password")],
        )


__all__ = ["LOCK_FOR", "MAX_FAILURES", "UserService", "tokens_table", "users_table"]

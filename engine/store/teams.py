"""Teams and their members: the minimal store assignment needs.

Routing hands records to a team's members in turn (round robin) or to the
member with the least open work (least loaded), so it needs to know who is
in a team and in which order. This module keeps just that; the security
layer extends the same tables with managers, labels and row scopes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from engine.errors import NotFound, error_entry
from engine.store.system import team_members, teams

if TYPE_CHECKING:
    from engine.store.db import Database


class TeamStore:
    """``p.teams``: create teams, set their members, read them back."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, members: Iterable[str] = (), *, label: str | None = None) -> None:
        """Create (or replace the members of) team ``name``; members keep the order given."""
        with self.db.transaction() as conn:
            exists = conn.execute(select(teams.c.name).where(teams.c.name == name)).scalar()
            if exists is None:
                conn.execute(insert(teams).values(name=name, label=label, rr_turn=0))
            elif label is not None:
                conn.execute(update(teams).where(teams.c.name == name).values(label=label))
            self._set_members(conn, name, list(members))

    def set_members(self, name: str, members: Iterable[str]) -> None:
        """Replace the members of an existing team; raises NotFound."""
        with self.db.transaction() as conn:
            if conn.execute(select(teams.c.name).where(teams.c.name == name)).scalar() is None:
                raise NotFound(
                    f"no team named {name!r}", [error_entry("no such team", field="team")]
                )
            self._set_members(conn, name, list(members))

    def members(self, name: str) -> list[str]:
        """The active members of ``name`` in their turn order (empty for an unknown team)."""
        with self.db.transaction(write=False) as conn:
            return members_of(conn, name)

    def names(self) -> list[str]:
        with self.db.transaction(write=False) as conn:
            return list(conn.execute(select(teams.c.name).order_by(teams.c.name)).scalars())

    def team_of(self, username: str) -> str | None:
        """The first team ``username`` belongs to (by name), or None."""
        with self.db.transaction(write=False) as conn:
            return conn.execute(
                select(team_members.c.team)
                .where(team_members.c.username == username, team_members.c.active.is_(True))
                .order_by(team_members.c.team)
                .limit(1)
            ).scalar()

    def _set_members(self, conn: Connection, name: str, members: list[str]) -> None:
        conn.execute(delete(team_members).where(team_members.c.team == name))
        rows: list[dict[str, Any]] = [
            {"team": name, "username": u, "position": i, "active": True}
            for i, u in enumerate(dict.fromkeys(members))
        ]
        if rows:
            conn.execute(insert(team_members), rows)


def members_of(conn: Connection, team: str) -> list[str]:
    """Active members of ``team`` in turn order, read on the caller's connection."""
    return list(
        conn.execute(
            select(team_members.c.username)
            .where(team_members.c.team == team, team_members.c.active.is_(True))
            .order_by(team_members.c.position, team_members.c.username)
        ).scalars()
    )


def team_exists(conn: Connection, team: str) -> bool:
    return conn.execute(select(teams.c.name).where(teams.c.name == team)).scalar() is not None


__all__ = ["TeamStore", "members_of", "team_exists"]

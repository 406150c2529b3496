"""Assignment strategies: who owns a record after a routing rule or an ``assign`` action.

Runs inside the write's transaction, so a turn taken for a record that is
then refused is given back by the rollback.

- ``user``: that user; the team becomes the user's team.
- ``field``: the user an expression gives (``assign field account.owner``).
- ``queue``: nobody owns it yet; ``team`` names the queue its members pick from.
- ``team`` with ``round_robin``: the members in turn. The turn is one atomic
  ``UPDATE ts_team SET rr_turn = rr_turn + 1 ... RETURNING`` on the team's
  row, which also holds the row lock until the write commits, so two records
  routed at once never get the same turn and counts stay within one.
- ``team`` with ``least_loaded``: the member owning the fewest open records
  of the entity (ties go to the earlier member). The team row is locked
  first, so concurrent picks see each other's records.

A team with no members works as a queue. What "open" means: until the rule
language can compile a condition to SQL, a record is open unless its
``status`` or ``stage`` select field holds a closing option (see
:data:`CLOSED_OPTIONS`); an entity with neither counts every owned record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.engine import Connection

from engine.errors import ValidationError, error_entry
from engine.store.system import teams
from engine.store.teams import members_of

CLOSED_OPTIONS = frozenset(
    {"closed", "won", "lost", "done", "converted", "cancelled", "canceled", "disqualified"}
)
STATUS_FIELDS = ("status", "stage")


def take_turn(conn: Connection, team: str) -> int | None:
    """Advance the team's round-robin cursor and return the new value (None: no such team)."""
    stmt = (
        update(teams)
        .where(teams.c.name == team)
        .values(rr_turn=teams.c.rr_turn + 1)
        .returning(teams.c.rr_turn)
    )
    return conn.execute(stmt).scalar()


def lock_team(conn: Connection, team: str) -> None:
    """Hold the team's row until the write commits (``FOR UPDATE``; SQLite writes are serial)."""
    conn.execute(select(teams.c.name).where(teams.c.name == team).with_for_update()).first()


def open_condition(model: Any, table: Table) -> Any | None:
    """The SQL condition for "still open" on this entity, or None when every record counts."""
    for key in STATUS_FIELDS:
        f = model.fields.get(key)
        if f is None or f.removed or not f.stored:
            continue
        closed = sorted(CLOSED_OPTIONS.intersection(f.prop.get("enum") or ()))
        if closed:
            col = table.c[f.column]
            return or_(col.is_(None), col.not_in(closed))
    return None


def least_loaded(
    conn: Connection,
    members: list[str],
    model: Any,
    table: Table,
    pending: dict[str, int] | None = None,
) -> str:
    """The member with the fewest open records of the entity; ties go to the earlier one.

    ``pending`` counts what earlier records of the same batch (``create_many``) were given
    but are not stored yet; the winner is added to it, so a batch spreads as single
    creates would.
    """
    stmt = (
        select(table.c.owner, func.count())
        .where(table.c.owner.in_(members))
        .group_by(table.c.owner)
    )
    cond = open_condition(model, table)
    if cond is not None:
        stmt = stmt.where(cond)
    load = dict(conn.execute(stmt).all())
    extra = pending or {}
    chosen = min(members, key=lambda m: (load.get(m, 0) + extra.get(m, 0), members.index(m)))
    if pending is not None:
        pending[chosen] = pending.get(chosen, 0) + 1
    return chosen


def assign(
    conn: Connection,
    to: str,
    target: Any,
    strategy: str | None,
    *,
    model: Any,
    table: Table,
    user_team: Callable[[str | None], str | None],
    pending: dict[str, int] | None = None,
) -> tuple[str | None, str | None]:
    """``(owner, team)`` for one assignment; raises ValidationError for an unknown strategy.

    ``pending``: the batch's not yet stored least-loaded picks (see ``least_loaded``)."""
    if to in ("user", "field"):
        owner = None if target is None else str(target)
        return owner, user_team(owner)
    if to == "queue":
        return None, target
    if to != "team":
        raise ValidationError(
            f"cannot assign to {to!r}", [error_entry(f"unknown assignment {to!r}", field="owner")]
        )
    members = members_of(conn, target)
    if strategy == "least_loaded":
        lock_team(conn, target)
        return (least_loaded(conn, members, model, table, pending) if members else None), target
    if strategy not in (None, "round_robin"):
        raise ValidationError(
            f"unknown assignment strategy {strategy!r}",
            [error_entry("use round_robin or least_loaded", field="owner")],
        )
    turn = take_turn(conn, target)
    if not members or turn is None:
        return None, target
    return members[(turn - 1) % len(members)], target


__all__ = ["CLOSED_OPTIONS", "assign", "least_loaded", "lock_team", "open_condition", "take_turn"]

"""Saved list views: a name, the columns, the sort and the filter of one entity's list.

A view belongs to the user who saved it; ``shared`` makes it visible to everyone
who may read the entity. Only its owner (or an admin) changes or deletes it.
The filter is rule-language text, checked against the entity before it is
stored, so a saved view never holds an expression the list would refuse.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    Column,
    Index,
    String,
    Table,
    Text,
    delete,
    insert,
    or_,
    select,
    update,
)

from engine.errors import NotFound, PermissionDenied, ValidationError, error_entry
from engine.store.system import system_metadata
from engine.store.types import IdType, UTCDateTime

views_table = Table(
    "ts_saved_view",
    system_metadata,
    Column("id", IdType, primary_key=True),
    Column("entity", String(64), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("name", String(120), nullable=False),
    Column("shared", Boolean, nullable=False, default=False),
    Column("spec", Text, nullable=False),  # JSON: columns, order_by, where
    Column("created_on", UTCDateTime, nullable=False),
    Index("ix_ts_saved_view_entity", "entity", "owner"),
)

MAX_NAME = 120
MAX_COLUMNS = 50


class SavedViews:
    """Saved views of list pages, read and written as a user (permissions apply)."""

    def __init__(self, platform: Any) -> None:
        self.p = platform

    # -- reading ---------------------------------------------------------------

    def list(self, entity: str, user: str) -> list[dict[str, Any]]:
        """The user's own views of ``entity`` and the shared ones, by name."""
        self._readable(entity, user)
        t = views_table
        stmt = (
            select(t)
            .where(t.c.entity == entity, or_(t.c.owner == user, t.c.shared.is_(True)))
            .order_by(t.c.name, t.c.id)
        )
        with self.p.db.transaction(write=False) as conn:
            return [_view(r) for r in conn.execute(stmt).mappings()]

    def get(self, view_id: int, user: str) -> dict[str, Any]:
        """One view the user may see (their own or a shared one); raises NotFound."""
        if not 0 < view_id < 2**63:  # beyond a 64-bit id column: names no view
            raise NotFound(f"no saved view {view_id}", [error_entry("unknown view", field="id")])
        with self.p.db.transaction(write=False) as conn:
            row = conn.execute(select(views_table).where(views_table.c.id == view_id)).mappings()
            found = row.first()
        if found is None or (found["owner"] != user and not found["shared"]):
            raise NotFound(f"no saved view {view_id}", [error_entry("unknown view", field="id")])
        self._readable(found["entity"], user)
        return _view(found)

    # -- writing ---------------------------------------------------------------

    def create(
        self,
        user: str,
        entity: str,
        name: str,
        *,
        columns: list[str] | None = None,
        order_by: str | None = None,
        where: str | None = None,
        shared: bool = False,
    ) -> dict[str, Any]:
        """Save a view of ``entity`` owned by ``user``; returns it with its ``id``."""
        self._readable(entity, user)
        spec = self._spec(entity, user, name, columns, order_by, where)
        with self.p.db.transaction() as conn:
            (view_id,) = self.p.ids.allocate(conn, views_table.name, 1)
            conn.execute(
                insert(views_table).values(
                    id=view_id,
                    entity=entity,
                    owner=user,
                    name=name.strip(),
                    shared=bool(shared),
                    spec=orjson.dumps(spec).decode(),
                    created_on=self.p.clock.now(),
                )
            )
        return self.get(view_id, user)

    def update(self, view_id: int, user: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Rename, re-share or change what a view shows (owner or admin only)."""
        view = self._owned(view_id, user)
        merged = {**view, **{k: v for k, v in changes.items() if k in _FIELDS}}
        spec = self._spec(
            view["entity"],
            user,
            str(merged["name"]),
            merged.get("columns"),
            merged.get("order_by"),
            merged.get("where"),
        )
        with self.p.db.transaction() as conn:
            conn.execute(
                update(views_table)
                .where(views_table.c.id == view_id)
                .values(
                    name=str(merged["name"]).strip(),
                    shared=bool(merged["shared"]),
                    spec=orjson.dumps(spec).decode(),
                )
            )
        return {**merged, **spec, "name": str(merged["name"]).strip()}

    def delete(self, view_id: int, user: str) -> None:
        """Delete a view: its owner or an admin."""
        self._owned(view_id, user)
        with self.p.db.transaction() as conn:
            conn.execute(delete(views_table).where(views_table.c.id == view_id))

    # -- helpers ---------------------------------------------------------------

    def _readable(self, entity: str, user: str) -> None:
        if entity not in self.p.entities.names():
            raise NotFound(
                f"no entity named {entity!r}", [error_entry("unknown entity", field="entity")]
            )
        self.p.access(user).require(entity, "read")

    def _owned(self, view_id: int, user: str) -> dict[str, Any]:
        view = self.get(view_id, user)
        if view["owner"] != user and not self.p.access(user).admin:
            raise PermissionDenied(
                f"only {view['owner']} or an admin may change the view {view['name']!r}",
                [error_entry("not your view", field="id")],
            )
        return view

    def _spec(
        self,
        entity: str,
        user: str,
        name: str,
        columns: Any,
        order_by: Any,
        where: Any,
    ) -> dict[str, Any]:
        errors = []
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
            errors.append(
                error_entry(f"give the view a name (1 to {MAX_NAME} characters)", field="name")
            )
        model = self.p.entities.get(entity).model
        hidden = self.p.access(user).hidden(entity)
        known = {f.key for f in model.active_fields() if f.key not in hidden}
        known |= {"id", "owner", "team", "created_on", "modified_on"}
        cols = list(columns or [])
        if not isinstance(columns, list | tuple | type(None)) or len(cols) > MAX_COLUMNS:
            errors.append(error_entry("columns must be a list of field names", field="columns"))
            cols = []
        for col in cols:
            if col not in known:
                errors.append(error_entry(f"{col!r} is not a field you can see", field="columns"))
        for key in [k.strip() for k in str(order_by or "").split(",") if k.strip()]:
            if key.lstrip("-+") not in known:
                errors.append(error_entry(f"cannot sort by {key!r}", field="order_by"))
        where_text = str(where or "").strip() or None
        if where_text:
            for d in self.p.rules.check(where_text, entity=entity):
                if d.get("severity", "error") == "error":
                    errors.append(
                        error_entry(
                            d["message"], field="where", line=d.get("line"), column=d.get("column")
                        )
                    )
        if errors:
            raise ValidationError("the view is invalid", errors)
        return {"columns": cols, "order_by": str(order_by or "") or None, "where": where_text}


_FIELDS = ("name", "shared", "columns", "order_by", "where")


def _view(row: Any) -> dict[str, Any]:
    spec = orjson.loads(row["spec"])
    return {
        "id": row["id"],
        "entity": row["entity"],
        "owner": row["owner"],
        "name": row["name"],
        "shared": bool(row["shared"]),
        "columns": spec.get("columns") or [],
        "order_by": spec.get("order_by"),
        "where": spec.get("where"),
        "created_on": row["created_on"],
    }


__all__ = ["SavedViews", "views_table"]

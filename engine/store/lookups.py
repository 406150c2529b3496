"""Fields that copy a value through references (``x-computed: account.industry``).

Each such field chooses how it stays true, with ``x-store``:

- ``stored`` (the default): the value has a column, so lists can sort and
  filter on it. It is filled when the record is written and refreshed, in the
  same transaction, whenever the referenced record's source field changes. To
  keep that refresh one indexed UPDATE, a stored lookup goes one reference
  deep (``account.industry``).
- ``read``: no column; the value is fetched when the record is read, through
  any number of references (``account.parent.region``). Always current, but
  it cannot be sorted or filtered on in SQL.

A referenced record cannot be deleted while others point at it, so neither
kind can be left pointing at nothing. Expressions other than plain reference
paths are the rule language's computed fields.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from engine.errors import error_entry

if TYPE_CHECKING:
    from engine.forms.entity import EntityModel
from engine.store.registry import EntityRegistry
from engine.store.versions import touch

PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def is_path(expression: Any) -> bool:
    return isinstance(expression, str) and bool(PATH.match(expression.strip()))


@dataclass(frozen=True)
class Lookup:
    """One lookup field: ``entity.key`` copies ``hops[0] → ... → target``."""

    entity: str
    key: str
    hops: tuple[str, ...]
    target: str
    stored: bool


def lookups_of(model: EntityModel) -> list[Lookup]:
    out = []
    for f in model.active_fields():
        if f.child is None and is_path(f.computed):
            *hops, target = f.computed.strip().split(".")
            out.append(Lookup(model.name, f.key, tuple(hops), target, f.stored))
    return out


def lookup_errors(definition: dict[str, Any], entities: dict[str, dict[str, Any]]) -> list[dict]:
    """Check every lookup path of ``definition`` against the entities it will live among."""
    errors = []
    name = definition.get("name", "")
    props = (definition.get("schema") or {}).get("properties") or {}
    for key, prop in props.items():
        expr = prop.get("x-computed") if isinstance(prop, dict) else None
        if expr is None or not is_path(expr):
            continue
        where = f"schema.properties.{key}.x-computed"
        *hops, target = expr.strip().split(".")
        current, current_props = name, props
        for hop in hops:
            hop_prop = current_props.get(hop)
            ref = hop_prop.get("x-ref") if isinstance(hop_prop, dict) else None
            if ref is None:
                errors.append(
                    error_entry(f"{hop} is not a reference field of {current}", field=where)
                )
                break
            if ref not in entities:
                errors.append(error_entry(f"{hop} refers to unknown entity {ref}", field=where))
                break
            current = ref
            current_props = (entities[ref].get("schema") or {}).get("properties") or {}
        else:
            if target not in current_props:
                known = ", ".join(sorted(current_props))
                errors.append(
                    error_entry(f"{current} has no field {target} (fields: {known})", field=where)
                )
            elif prop.get("x-store", "stored") == "stored" and len(hops) > 1:
                errors.append(
                    error_entry(
                        f"a stored lookup goes one reference deep; set x-store: read for {expr}",
                        field=where,
                    )
                )
    return errors


class Lookups:
    """Fills and refreshes lookup values for the record service."""

    def __init__(self, entities: EntityRegistry) -> None:
        self.entities = entities
        self._dependents: dict[str, list[tuple[Any, Lookup]]] = {}
        self._generation = -1

    def _dependents_of(self, entity: str) -> list[tuple[Any, Lookup]]:
        """Stored one-hop lookups reading ``entity``; indexed once per registry rebuild."""
        live_all = self.entities.all()
        if self._generation != self.entities.generation:
            index: dict[str, list[tuple[Any, Lookup]]] = defaultdict(list)
            for live in live_all.values():
                for lk in lookups_of(live.model):
                    if lk.stored and len(lk.hops) == 1:
                        index[live.model.fields[lk.hops[0]].ref].append((live, lk))
            self._dependents, self._generation = dict(index), self.entities.generation
        return self._dependents.get(entity, [])

    def fill(
        self, conn: Connection, model: EntityModel, records: list[dict[str, Any]], *, stored: bool
    ) -> None:
        """Set the lookup fields (stored ones or read-time ones) of ``records`` in place."""
        for lk in lookups_of(model):
            if lk.stored != stored:
                continue
            starts = [r.get(lk.hops[0]) for r in records]
            values = self._follow(conn, model, lk, [s for s in starts if s is not None])
            for record, start in zip(records, starts):
                record[lk.key] = values.get(start) if start is not None else None

    def _follow(
        self, conn: Connection, model: EntityModel, lk: Lookup, ids: list[int]
    ) -> dict[int, Any]:
        """Start id → the value at the end of the path, one query per hop."""
        mapping = {i: i for i in set(ids)}  # start id → id at the current hop
        current = model
        for n, hop in enumerate(lk.hops):
            live = self.entities.get(current.fields[hop].ref)
            current = live.model
            last = n == len(lk.hops) - 1
            field = current.fields[lk.target if last else lk.hops[n + 1]]
            col = live.table.c[field.column]
            wanted = sorted({v for v in mapping.values() if v is not None})
            found: dict[int, Any] = {}
            if wanted:
                rows = conn.execute(select(live.table.c.id, col).where(live.table.c.id.in_(wanted)))
                found = {rid: value for rid, value in rows}
            mapping = {start: found.get(at) for start, at in mapping.items()}
            if last:
                return {start: field.type.from_db(v) for start, v in mapping.items()}
        return {}

    def refresh(self, conn: Connection, entity: str, record_id: int, changed: set[str]) -> None:
        """After ``entity`` record ``record_id`` changed ``changed``, update stored copies."""
        by_field: dict[str, list[tuple[Any, Lookup]]] = defaultdict(list)
        for live, lk in self._dependents_of(entity):
            if lk.target in changed:
                by_field[lk.target].append((live, lk))
        if not by_field:
            return
        source = self.entities.get(entity)
        for target, users in by_field.items():
            col = source.table.c[source.model.fields[target].column]
            value = conn.execute(select(col).where(source.table.c.id == record_id)).scalar()
            for live, lk in users:
                f_ref = live.model.fields[lk.hops[0]]
                f_copy = live.model.fields[lk.key]
                conn.execute(
                    update(live.table)
                    .where(live.table.c[f_ref.column] == record_id)
                    .values({f_copy.column: value})
                )
                touch(conn, live.model.name)  # its stored copies changed: reports over it expire

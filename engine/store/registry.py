"""The live entities: models and tables built from the stored definitions, cached.

Every metadata change calls :meth:`EntityRegistry.invalidate`; the next use
rebuilds from the database, so all services see one consistent set of tables.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, Table, select
from sqlalchemy.engine import Connection

from engine.errors import NotFound
from engine.forms.entity import EntityModel, build_model
from engine.store.schema import build_tables
from engine.store.system import physical_fields

if TYPE_CHECKING:  # the store only needs something with all_current(); meta provides it
    from engine.meta.repository import MetaRepository


@dataclass
class LiveEntity:
    model: EntityModel
    version: int
    table: Table
    child_tables: dict[str, Table]
    #: what is built once per version: statements over its tables (the record service's read
    #: by id) and answers derived from its model (whether a lone create applies)
    statements: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def physical_map(conn: Connection, entity: str) -> dict[str, dict[str, Any]]:
    rows = conn.execute(select(physical_fields).where(physical_fields.c.entity == entity))
    out: dict[str, dict[str, Any]] = {}
    for r in rows.mappings():
        out[r["key"]] = {
            "column": r["column_name"],
            "table": r["table_name"],
            "removed": r["removed"],
        }
    return out


def all_physical_maps(conn: Connection) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in conn.execute(select(physical_fields)).mappings():
        out.setdefault(r["entity"], {})[r["key"]] = {
            "column": r["column_name"],
            "table": r["table_name"],
            "removed": r["removed"],
        }
    return out


class EntityRegistry:
    def __init__(self, db: Any, repo: MetaRepository) -> None:
        self.db = db
        self.repo = repo
        self._lock = threading.Lock()
        self._entities: dict[str, LiveEntity] | None = None
        self.metadata = MetaData()
        #: Counts rebuilds, so caches derived from the entities know when to rebuild.
        self.generation = 0

    def invalidate(self) -> None:
        with self._lock:
            self._entities = None

    def _load(self) -> dict[str, LiveEntity]:
        with self._lock:
            if self._entities is not None:
                return self._entities
            # Joins the transaction open in this context (an install reads its own new tables).
            with self.db.transaction(write=False) as conn:
                defs = self.repo.all_current(conn, "entity")
                phys = all_physical_maps(conn)
            metadata = MetaData()
            entities: dict[str, LiveEntity] = {}
            for name, (definition, version) in defs.items():
                model = build_model(definition, phys.get(name, {}))
                tables = build_tables(model, metadata)
                entities[name] = LiveEntity(
                    model=model,
                    version=version,
                    table=tables[0],
                    child_tables={
                        f.key: metadata.tables[f.child.table_name]
                        for f in model.fields.values()
                        if f.child is not None
                    },
                )
            self.metadata = metadata
            self._entities = entities
            self.generation += 1
            return entities

    def get(self, name: str) -> LiveEntity:
        entities = self._load()
        try:
            return entities[name]
        except KeyError:
            raise NotFound(
                f"unknown entity {name!r}",
                [{"field": "entity", "message": f"unknown entity {name!r}"}],
            ) from None

    def names(self) -> list[str]:
        return sorted(self._load())

    def all(self) -> dict[str, LiveEntity]:
        return dict(self._load())

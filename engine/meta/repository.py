"""Definitions in the database: one immutable row per version, one head row per item."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from engine.clock import Clock
from engine.store.system import meta_items, meta_versions

KINDS = ("app", "entity", "rules", "flow", "report", "dashboard", "permissions", "menu", "webform")


def canonical(definition: Any) -> str:
    """JSON with the author's key order kept (forms show fields in that order)."""
    return orjson.dumps(definition).decode()


def content_hash(definition: Any) -> str:
    return hashlib.sha256(orjson.dumps(definition, option=orjson.OPT_SORT_KEYS)).hexdigest()


class MetaRepository:
    """Reads and writes definition versions; knows nothing of what a kind means."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def head(self, conn: Connection, kind: str, name: str) -> dict[str, Any] | None:
        row = (
            conn.execute(
                select(meta_items).where(meta_items.c.kind == kind, meta_items.c.name == name)
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def definition(self, conn: Connection, kind: str, name: str, version: int) -> Any:
        text = conn.execute(
            select(meta_versions.c.definition).where(
                meta_versions.c.kind == kind,
                meta_versions.c.name == name,
                meta_versions.c.version == version,
            )
        ).scalar()
        return None if text is None else orjson.loads(text)

    def version_hash(self, conn: Connection, kind: str, name: str, version: int) -> str | None:
        """The content hash stored with a version (:func:`content_hash` of its definition)."""
        return conn.execute(
            select(meta_versions.c.hash).where(
                meta_versions.c.kind == kind,
                meta_versions.c.name == name,
                meta_versions.c.version == version,
            )
        ).scalar()

    def current(self, conn: Connection, kind: str, name: str) -> tuple[Any, int] | None:
        head = self.head(conn, kind, name)
        if head is None or head["deleted"]:
            return None
        return self.definition(conn, kind, name, head["current_version"]), head["current_version"]

    def all_current(self, conn: Connection, kind: str) -> dict[str, tuple[Any, int]]:
        """Every live definition of ``kind`` in one query: name → (definition, version)."""
        j = meta_items.join(
            meta_versions,
            and_(
                meta_versions.c.kind == meta_items.c.kind,
                meta_versions.c.name == meta_items.c.name,
                meta_versions.c.version == meta_items.c.current_version,
            ),
        )
        rows = conn.execute(
            select(meta_items.c.name, meta_versions.c.definition, meta_versions.c.version)
            .select_from(j)
            .where(meta_items.c.kind == kind, meta_items.c.deleted.is_(False))
            .order_by(meta_items.c.name)
        )
        return {name: (orjson.loads(text), version) for name, text, version in rows}

    def items(self, conn: Connection, bundle: str | None = None) -> list[dict[str, Any]]:
        stmt = select(meta_items).order_by(meta_items.c.kind, meta_items.c.name)
        if bundle is not None:
            stmt = stmt.where(meta_items.c.bundle == bundle)
        return [dict(r) for r in conn.execute(stmt).mappings()]

    def add_version(
        self,
        conn: Connection,
        kind: str,
        name: str,
        definition: Any,
        *,
        origin: str,
        user: str | None = None,
        bundle: str | None = None,
        bundle_version: str | None = None,
        note: str | None = None,
        make_current: bool = True,
        base: bool = False,
    ) -> int:
        """Append a version; move the head to it when ``make_current``. Returns its number."""
        head = self.head(conn, kind, name)
        last = conn.execute(
            select(meta_versions.c.version)
            .where(meta_versions.c.kind == kind, meta_versions.c.name == name)
            .order_by(meta_versions.c.version.desc())
            .limit(1)
        ).scalar()
        version = (last or 0) + 1
        conn.execute(
            insert(meta_versions).values(
                kind=kind,
                name=name,
                version=version,
                origin=origin,
                bundle_version=bundle_version,
                definition=canonical(definition),
                hash=content_hash(definition),
                created_on=self.clock.now(),
                created_by=user,
                note=note,
            )
        )
        if head is None:
            conn.execute(
                insert(meta_items).values(
                    kind=kind,
                    name=name,
                    bundle=bundle,
                    current_version=version,
                    base_version=version if base else None,
                    overlay=not base,
                    deleted=False,
                )
            )
            return version
        values: dict[str, Any] = {}
        if make_current:
            values["current_version"] = version
            values["deleted"] = False
        if base:
            values["base_version"] = version
        if bundle is not None:
            values["bundle"] = bundle
        if values:
            conn.execute(
                update(meta_items)
                .where(meta_items.c.kind == kind, meta_items.c.name == name)
                .values(**values)
            )
        self._refresh_overlay_flag(conn, kind, name)
        return version

    def _refresh_overlay_flag(self, conn: Connection, kind: str, name: str) -> None:
        head = self.head(conn, kind, name)
        assert head is not None
        if head["base_version"] is None:
            overlay = True
        elif head["base_version"] == head["current_version"]:
            overlay = False
        else:
            base = self.definition(conn, kind, name, head["base_version"])
            cur = self.definition(conn, kind, name, head["current_version"])
            overlay = content_hash(base) != content_hash(cur)
        conn.execute(
            update(meta_items)
            .where(meta_items.c.kind == kind, meta_items.c.name == name)
            .values(overlay=overlay)
        )

    def versions(self, conn: Connection, kind: str, name: str) -> list[dict[str, Any]]:
        rows = conn.execute(
            select(meta_versions)
            .where(meta_versions.c.kind == kind, meta_versions.c.name == name)
            .order_by(meta_versions.c.version)
        ).mappings()
        out = []
        for r in rows:
            item = dict(r)
            item["definition"] = orjson.loads(item["definition"])
            item.pop("id", None)
            out.append(item)
        return out

"""Backup and restore: the whole platform in one portable archive, across SQLite and PostgreSQL.

The archive is a zip: ``manifest.json`` (format, when, from which dialect,
each member's row count and SHA-256) and one JSON-lines file per table — the
engine's own tables (metadata and its versions, physical names, audit, users,
tokens, counters, flow state, outbox...) and every entity and child table.
Values are written with their type (datetimes with their zone, dates,
decimals as text, JSON as JSON), so a SQLite backup restores into PostgreSQL
and back with every row identical.

Restoring needs an empty database: the engine's tables are filled first, the
entity tables are then created from the restored definitions (the same DDL an
install runs) and filled, and the id sources (PostgreSQL sequences, SQLite
counters) are moved past the highest restored id. It is one transaction: a
corrupt archive or a failing row leaves the target empty.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Table, func, insert, select, text

from engine.errors import ConflictError, ValidationError, error_entry
from engine.store.system import system_metadata

FORMAT = "tessera-backup/1"
BATCH = 2000


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, dict | list):
        return {"$json": value}
    if isinstance(value, bytes):
        return {"$hex": value.hex()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "$dt":
            return dt.datetime.fromisoformat(raw)
        if tag == "$d":
            return dt.date.fromisoformat(raw)
        if tag == "$dec":
            return Decimal(raw)
        if tag == "$json":
            return raw
        if tag == "$hex":
            return bytes.fromhex(raw)
    return value


def _system_tables() -> list[Table]:
    return list(system_metadata.sorted_tables)


def _entity_tables(platform: Any) -> list[Table]:
    platform.entities.names()  # load the live definitions
    return list(platform.entities.metadata.sorted_tables)


def _rows(conn: Any, table: Table) -> Iterator[bytes]:
    columns = [c.key for c in table.columns]
    order = [table.c[k] for k in ("id",) if k in table.c] or list(table.primary_key.columns)
    result = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
    for row in result:
        yield orjson.dumps([_encode(row._mapping[c]) for c in columns]) + b"\n"


def backup(platform: Any, path: str | Path) -> dict[str, Any]:
    """Write the platform's whole state to ``path``; returns the manifest."""
    members: dict[str, dict[str, Any]] = {}
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        platform.db.transaction(write=False) as conn,
    ):
        for group, tables in (("system", _system_tables()), ("entity", _entity_tables(platform))):
            for table in tables:
                digest, count, buffer = hashlib.sha256(), 0, io.BytesIO()
                for line in _rows(conn, table):
                    digest.update(line)
                    buffer.write(line)
                    count += 1
                name = f"{group}/{table.name}.jsonl"
                archive.writestr(name, buffer.getvalue())
                members[name] = {
                    "table": table.name,
                    "columns": [c.key for c in table.columns],
                    "rows": count,
                    "sha256": digest.hexdigest(),
                }
        manifest = {
            "format": FORMAT,
            "created": platform.clock.now().isoformat(),
            "dialect": platform.db.dialect,
            "members": members,
        }
        archive.writestr("manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


def _read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = orjson.loads(archive.read("manifest.json"))
    except (KeyError, orjson.JSONDecodeError):
        raise ValidationError(
            "this is not a Tessera backup", [error_entry("manifest.json is missing or unreadable")]
        ) from None
    if manifest.get("format") != FORMAT:
        raise ValidationError(
            f"unknown backup format {manifest.get('format')!r}",
            [error_entry(f"this version reads {FORMAT}", field="format")],
        )
    for name, member in manifest["members"].items():
        data = archive.read(name)
        if hashlib.sha256(data).hexdigest() != member["sha256"]:
            raise ValidationError(
                f"the backup is damaged: {name} does not match its checksum",
                [error_entry("checksum mismatch", field=name)],
            )
    return manifest


def _fill(conn: Any, table: Table, columns: list[str], data: bytes) -> None:
    keys = [c for c in columns if c in table.c]
    rows = []
    for line in data.splitlines():
        if not line:
            continue
        values = orjson.loads(line)
        row = {c: _decode(v) for c, v in zip(columns, values)}
        rows.append({k: row[k] for k in keys})
        if len(rows) >= BATCH:
            conn.execute(insert(table), rows)
            rows = []
    if rows:
        conn.execute(insert(table), rows)


def restore(platform: Any, path: str | Path) -> dict[str, Any]:
    """Restore ``path`` into this platform's database, which must be empty; all or nothing."""
    with zipfile.ZipFile(path) as archive:
        manifest = _read_manifest(archive)
        with platform.db.transaction(write=True) as conn:
            if platform.db.dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            existing = conn.execute(
                select(func.count()).select_from(system_metadata.tables["ts_meta_item"])
            ).scalar_one()
            if existing:
                raise ConflictError(
                    "restore needs an empty database",
                    [error_entry("this database already holds definitions", field="database")],
                )
            members = manifest["members"]
            for table in _system_tables():
                member = members.get(f"system/{table.name}.jsonl")
                if member and member["rows"]:
                    _fill(
                        conn, table, member["columns"], archive.read(f"system/{table.name}.jsonl")
                    )
            platform.metadata_changed()
            entity_tables = _entity_tables(platform)
            platform.entities.metadata.create_all(conn)
            for table in entity_tables:
                platform.ids.create(conn, table.name)
                member = members.get(f"entity/{table.name}.jsonl")
                if member and member["rows"]:
                    _fill(
                        conn, table, member["columns"], archive.read(f"entity/{table.name}.jsonl")
                    )
            _advance_ids(platform, conn, entity_tables)
    platform.metadata_changed()
    return manifest


def _advance_ids(platform: Any, conn: Any, entity_tables: list[Table]) -> None:
    """Every id source past the highest restored id, so new records never collide."""
    from engine.store.counters import _advance

    for table in entity_tables:
        highest = conn.execute(select(func.max(table.c.id))).scalar() or 0
        if platform.db.dialect == "postgresql":
            conn.execute(
                text("SELECT setval(CAST(:seq AS regclass), :n, :called)"),
                {"seq": f"{table.name}_id_seq", "n": max(highest, 1), "called": highest > 0},
            )
        else:
            current = conn.execute(
                text("SELECT value FROM ts_counter WHERE name = :n"), {"n": f"id:{table.name}"}
            ).scalar()
            if (current or 0) < highest:
                _advance(conn, f"id:{table.name}", highest - (current or 0))
    if platform.db.dialect == "postgresql":
        for table in _system_tables():
            if "id" in table.c and table.c.id.autoincrement is not False:
                seq = conn.execute(
                    text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
                ).scalar()
                if seq:
                    highest = conn.execute(select(func.max(table.c.id))).scalar() or 0
                    conn.execute(
                        text("SELECT setval(CAST(:seq AS regclass), :n, :called)"),
                        {"seq": seq, "n": max(highest, 1), "called": highest > 0},
                    )


__all__ = ["FORMAT", "backup", "restore"]

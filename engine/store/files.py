"""Uploaded files, stored in the database so backups and both databases carry them.

A file is uploaded first (``p.files.upload``): its bytes go into ``ts_file``
with its name, media type, size, SHA-256 and uploader, and it belongs to no
record yet. Saving a record whose ``file`` field holds the file's id attaches
it (entity, record, field): the record service calls :meth:`FileStore.attach`
inside the save's transaction, so a refused save attaches nothing. A file
taken out of a field, or whose record is deleted, is deleted with it.

Checks happen on the server and never trust what the client says:

- the size against the field's ``x-max-size`` (bytes; default 10 MiB);
- the type by **both** the name's extension and the first bytes (a renamed
  ``.exe`` is not a ``.png``), then against the field's ``x-accept`` (media
  types such as ``image/png`` or ``image/*``, or extensions such as ``.pdf``).
  Executables are refused unless a field's ``x-accept`` names them.

Reading a file needs read permission on the record it is attached to and on
the field (a field hidden from the user hides its files); a file attached to
nothing yet is readable only by the user who uploaded it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import PurePath
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    LargeBinary,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.engine import Connection

from engine.errors import NotFound, ValidationError, error_entry
from engine.i18n import t
from engine.store.system import system_metadata
from engine.store.types import UTCDateTime

DEFAULT_MAX_SIZE = 10 * 1024 * 1024
#: An uploaded file no record has taken within this long is deleted by the job runner.
UNATTACHED_FOR = dt.timedelta(days=1)

files_table = Table(
    "ts_file",
    system_metadata,
    Column("id", String(32), primary_key=True),  # random: an id names one file, guessing none
    Column("name", String(255), nullable=False),
    Column("media_type", String(127), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploader", String(64)),
    Column("created_on", UTCDateTime, nullable=False),
    Column("entity", String(64)),  # what it is attached to (all NULL until a save attaches it)
    Column("record_id", BigInteger),
    Column("field", String(64)),
    Column("content", LargeBinary, nullable=False),
    Index("ix_file_record", "entity", "record_id"),
)


class FileTooLarge(ValidationError):
    """The file is larger than the field allows (HTTP 413)."""

    default_message = "the file is too large"


class FileTypeRefused(ValidationError):
    """The file's type is not allowed, or its bytes do not match its name (HTTP 415)."""

    default_message = "this type of file is not allowed"


# ---------------------------------------------------------------- types

#: extension → media type. Names outside this list are ``application/octet-stream``.
MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
    ".xml": "application/xml",
    ".html": "text/html",
    ".htm": "text/html",
    ".mp4": "video/mp4",
    ".mp3": "audio/mpeg",
    ".exe": "application/x-msdownload",
    ".dll": "application/x-msdownload",
}

#: The bytes a format starts with → the family it belongs to.
_SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"\xff\xd8\xff", 0, "jpeg"),
    (b"GIF87a", 0, "gif"),
    (b"GIF89a", 0, "gif"),
    (b"WEBP", 8, "webp"),
    (b"BM", 0, "bmp"),
    (b"%PDF-", 0, "pdf"),
    (b"PK\x03\x04", 0, "zip"),
    (b"PK\x05\x06", 0, "zip"),
    (b"\x1f\x8b", 0, "gzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "ole"),
    (b"ftyp", 4, "mp4"),
    (b"ID3", 0, "mp3"),
    (b"MZ", 0, "executable"),
    (b"\x7fELF", 0, "executable"),
    (b"\xcf\xfa\xed\xfe", 0, "executable"),
    (b"\xfe\xed\xfa\xcf", 0, "executable"),
    (b"\xca\xfe\xba\xbe", 0, "executable"),
    (b"#!", 0, "executable"),
]

#: The family each extension's bytes must show ("text": UTF-8 without NUL bytes).
_FAMILY = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".gif": "gif",
    ".webp": "webp",
    ".bmp": "bmp",
    ".pdf": "pdf",
    ".zip": "zip",
    ".docx": "zip",
    ".xlsx": "zip",
    ".pptx": "zip",
    ".odt": "zip",
    ".ods": "zip",
    ".gz": "gzip",
    ".doc": "ole",
    ".xls": "ole",
    ".ppt": "ole",
    ".mp4": "mp4",
    ".mp3": "mp3",
    ".exe": "executable",
    ".dll": "executable",
    ".svg": "text",
    ".txt": "text",
    ".md": "text",
    ".csv": "text",
    ".json": "text",
    ".xml": "text",
    ".html": "text",
    ".htm": "text",
}

EXECUTABLE = "application/x-msdownload"


def sniff(head: bytes) -> str | None:
    """The family the first bytes show: a format name, ``"text"``, or None (unknown)."""
    for magic, offset, family in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            if family == "mp4" and len(head) < 8:
                continue
            return family
    if not head:
        return "text"
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a character cut at the end of the sample is fine
            return None
    return "text"


def media_type_of(name: str, head: bytes) -> str:
    """The file's media type from its name, checked against its first bytes.

    Raises FileTypeRefused when the bytes are not what the name says (or are a
    program, whatever the name).
    """
    ext = PurePath(name).suffix.lower()
    found = sniff(head[:512])
    expected = _FAMILY.get(ext)
    if found == "executable" and expected != "executable":
        raise FileTypeRefused(
            t("{name} is a program, not a {ext} file", name=name, ext=ext or "plain"),
            [error_entry(t("the file's content is an executable program"), field="file")],
        )
    if expected is not None and found != expected:
        raise FileTypeRefused(
            t("{name} does not contain what its name says", name=name),
            [error_entry(t("the content is not a {ext} file", ext=ext), field="file")],
        )
    if ext in MEDIA_TYPES:
        return MEDIA_TYPES[ext]
    return "text/plain" if found == "text" else "application/octet-stream"


def _accepts(accept: list[str] | None, name: str, media_type: str) -> bool:
    if not accept:
        return media_type != EXECUTABLE
    ext = PurePath(name).suffix.lower()
    for item in accept:
        item = str(item).strip().lower()
        if not item:
            continue
        if item.startswith(".") and ext == item:
            return True
        if "/" not in item and not item.startswith(".") and ext == "." + item:
            return True
        if item.endswith("/*") and media_type.startswith(item[:-1]):
            return True
        if item == media_type:
            return True
    return False


def field_limits(prop: dict[str, Any]) -> tuple[int, list[str] | None]:
    """(largest size in bytes, accepted types or None for any) of a file field."""
    size = prop.get("x-max-size")
    accept = prop.get("x-accept")
    if isinstance(accept, str):
        accept = [a.strip() for a in accept.split(",")]
    return (int(size) if isinstance(size, int) and size > 0 else DEFAULT_MAX_SIZE), accept


def file_ids(value: Any) -> list[str]:
    """The file ids a file field's value holds (one id, a list of them, or none)."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v]
    return [str(value)]


def safe_name(name: str | None) -> str:
    """The file's own name, without any folder and without control characters."""
    base = PurePath(str(name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"')
    return (base.strip() or "file")[:255]


_PUBLIC = ("id", "name", "media_type", "size", "sha256", "uploader", "created_on")


def _public(row: Any) -> dict[str, Any]:
    info = {k: row[k] for k in _PUBLIC}
    info["type"] = info["media_type"]
    for key in ("entity", "record_id", "field"):
        if key in row:
            info[key] = row[key]
    return info


class FileStore:
    """The files of one platform (``p.files``)."""

    def __init__(self, platform: Any) -> None:
        self.p = platform

    # -- uploading -------------------------------------------------------------

    def limits(self, entity: str | None, field: str | None) -> tuple[int, list[str] | None]:
        if not entity or not field:
            return DEFAULT_MAX_SIZE, None
        f = self._file_field(entity, field)
        return field_limits(f.prop)

    def _file_field(self, entity: str, field: str) -> Any:
        """The file field ``field`` of ``entity``, or ``table.column`` of one of its child tables."""
        if entity not in self.p.entities.names():
            raise NotFound(f"no entity named {entity!r}", [error_entry("unknown", field="entity")])
        model = self.p.entities.get(entity).model
        key, _, sub = field.partition(".")
        f = model.fields.get(key)
        if sub:
            table = f if f is not None and not f.removed else None
            f = table.child.fields.get(sub) if table is not None and table.child else None
        if f is None or f.removed or f.type.name != "file":
            raise ValidationError(
                t("{entity} has no file field {field}", entity=entity, field=repr(field)),
                [error_entry(t("not a file field"), field="field")],
            )
        return f

    def upload(
        self,
        data: bytes,
        name: str | None,
        user: str | None,
        *,
        entity: str | None = None,
        field: str | None = None,
    ) -> dict[str, Any]:
        """Store ``data`` as a new, unattached file; returns its description.

        With ``entity`` and ``field`` the field's limits apply and the user must be
        allowed to write it (create or update the entity, the field not read-only).
        """
        if entity and field and user is not None:
            access = self.p.access(user)
            if not (access.scopes(entity, "create") or access.scopes(entity, "update")):
                access.require(entity, "update")
            access.refuse_writes(entity, {field.partition(".")[0]})
        max_size, accept = self.limits(entity, field)
        name = safe_name(name)
        check(name, data, max_size, accept)
        row = {
            "id": uuid.uuid4().hex,
            "name": name,
            "media_type": media_type_of(name, data[:512]),
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "uploader": user,
            "created_on": self.p.clock.now(),
            "content": data,
        }
        with self.p.db.transaction() as conn:
            conn.execute(files_table.insert(), [row])
        return _public(row)

    # -- reading ---------------------------------------------------------------

    def _row(self, conn: Connection, file_id: str, *, content: bool) -> Any:
        cols = [c for c in files_table.c if content or c.key != "content"]
        row = conn.execute(select(*cols).where(files_table.c.id == str(file_id))).mappings().first()
        if row is None:
            raise NotFound(
                t("file {id} does not exist", id=file_id), [error_entry(t("no such file"))]
            )
        return row

    def _require_read(self, conn: Connection, row: Any, user: str | None) -> None:
        if user is None:
            return
        missing = NotFound(
            t("file {id} does not exist", id=row["id"]), [error_entry(t("no such file"))]
        )
        if row["entity"] is None:
            if row["uploader"] != user:
                raise missing
            return
        entity, record_id, field = row["entity"], row["record_id"], row["field"]
        if entity not in self.p.entities.names():
            raise missing
        access = self.p.access(user)
        live = self.p.entities.get(entity)
        if not access.scopes(entity, "read"):
            raise missing
        access.require_row(conn, entity, "read", live.table, record_id)
        if field in access.hidden(entity):
            raise missing
        if str(row["id"]) not in self._held(conn, live, record_id, field):
            raise missing

    def _held(self, conn: Connection, live: Any, record_id: int, field: str) -> list[str]:
        """The file ids the record's ``field`` (or ``table.column`` of its child rows) holds now."""
        key, _, sub = field.partition(".")
        f = live.model.fields.get(key)
        if f is None or f.removed:
            return []
        if not sub:
            stored = conn.execute(
                select(live.table.c[f.column]).where(live.table.c.id == record_id)
            ).scalar()
            return file_ids(stored)
        inner = f.child.fields.get(sub) if f.child is not None else None
        table = live.child_tables.get(key)
        if inner is None or inner.removed or table is None:
            return []
        values = conn.execute(
            select(table.c[inner.column]).where(table.c.parent_id == record_id)
        ).scalars()
        return [i for v in values for i in file_ids(v)]

    def info(self, file_id: str, user: str | None = None) -> dict[str, Any]:
        """A file's description (no content), as ``user`` may read it; NotFound otherwise."""
        with self.p.db.transaction(write=False) as conn:
            row = self._row(conn, file_id, content=False)
            self._require_read(conn, row, user)
            return _public(row)

    def read(self, file_id: str, user: str | None = None) -> tuple[dict[str, Any], bytes]:
        """(description, content) of a file ``user`` may read; NotFound otherwise."""
        with self.p.db.transaction(write=False) as conn:
            row = self._row(conn, file_id, content=True)
            self._require_read(conn, row, user)
            return _public(row), bytes(row["content"])

    def describe(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """id → description of the files with these ids (no permission check: callers
        have read the record that holds them)."""
        if not ids:
            return {}
        cols = [c for c in files_table.c if c.key != "content"]
        with self.p.db.transaction(write=False) as conn:
            rows = conn.execute(select(*cols).where(files_table.c.id.in_(ids))).mappings()
            return {r["id"]: _public(r) for r in rows}

    # -- attaching (inside a record save) ----------------------------------------

    def attach(
        self,
        conn: Connection,
        entity: str,
        model: Any,
        user: str | None,
        pairs: list[tuple[dict[str, Any], dict[str, Any] | None]],
    ) -> None:
        """Attach the files new values name, delete those the values dropped.

        ``pairs`` are (record after the save, record before or None). A file may be
        attached when it is attached to nothing yet and ``user`` uploaded it (the
        system may attach any), or when it already belongs to this record and field.
        """
        fields = file_fields(model)
        if not fields:
            return
        errors: list[dict[str, Any]] = []
        for after, before in pairs:
            record_id = after["id"]
            for name, f in fields:
                new = _values_of(after, name)
                old = set(_values_of(before or {}, name))
                added = [i for i in new if i not in old]
                removed = [i for i in old if i not in set(new)]
                self._attach_field(conn, entity, record_id, name, f, added, removed, user, errors)
        if errors:
            raise ValidationError(t("a file cannot be attached"), errors)

    def _attach_field(
        self,
        conn: Connection,
        entity: str,
        record_id: int,
        name: str,
        f: Any,
        added: list[str],
        removed: list[str],
        user: str | None,
        errors: list[dict[str, Any]],
    ) -> None:
        """Attach ``added`` to the record's field ``name``, delete ``removed``; problems go
        into ``errors`` under the field's name (``items.receipt`` for a child table's)."""
        max_size, accept = field_limits(f.prop)
        columns = [c for c in files_table.c if c.key != "content"]
        for file_id in added:
            row = (
                conn.execute(select(*columns).where(files_table.c.id == file_id)).mappings().first()
            )
            if row is None:
                errors.append(error_entry(t("no file {id}", id=file_id), field=name))
                continue
            mine = row["entity"] is None and (user is None or row["uploader"] == user)
            here = (row["entity"], row["record_id"], row["field"]) == (entity, record_id, name)
            if not (mine or here):
                errors.append(error_entry(t("no file {id}", id=file_id), field=name))
                continue
            try:
                _check_stored(row, max_size, accept)
            except ValidationError as exc:
                errors += [{**e, "field": name} for e in exc.errors]
                continue
            conn.execute(
                update(files_table)
                .where(files_table.c.id == file_id)
                .values(entity=entity, record_id=record_id, field=name)
            )
        if removed:
            conn.execute(
                delete(files_table).where(
                    files_table.c.id.in_(removed),
                    files_table.c.entity == entity,
                    files_table.c.record_id == record_id,
                    files_table.c.field == name,
                )
            )

    def purge_unattached(self, now: Any, older_than: dt.timedelta = UNATTACHED_FOR) -> int:
        """Delete files no save attached within ``older_than`` (an abandoned form's uploads);
        the job runner calls this on each tick. Returns how many went."""
        with self.p.db.transaction() as conn:
            result = conn.execute(
                delete(files_table).where(
                    files_table.c.entity.is_(None), files_table.c.created_on < now - older_than
                )
            )
            return int(result.rowcount or 0)

    def record_deleted(self, conn: Connection, entity: str, record_id: int) -> None:
        conn.execute(
            delete(files_table).where(
                files_table.c.entity == entity, files_table.c.record_id == record_id
            )
        )


def file_fields(model: Any) -> list[tuple[str, Any]]:
    """(name, field) of every file field of ``model``: its own (``scan``) and those of its
    child tables' rows (``items.receipt``), which attach to the parent record."""
    found = []
    for f in model.active_fields():
        if f.type.name == "file":
            found.append((f.key, f))
        elif f.child is not None:
            found += [
                (f"{f.key}.{c.key}", c) for c in f.child.active_fields() if c.type.name == "file"
            ]
    return found


def _values_of(record: dict[str, Any], name: str) -> list[str]:
    """The file ids ``record`` holds under ``name``, across the rows for a child table's."""
    key, _, sub = name.partition(".")
    if not sub:
        return file_ids(record.get(key))
    return [i for row in record.get(key) or [] for i in file_ids((row or {}).get(sub))]


def check(name: str, data: bytes, max_size: int, accept: list[str] | None) -> None:
    """FileTooLarge or FileTypeRefused unless ``data`` named ``name`` fits the limits."""
    if len(data) > max_size:
        raise FileTooLarge(
            t(
                "{name} is {size} bytes; at most {max_size} are allowed",
                name=name,
                size=len(data),
                max_size=max_size,
            ),
            [
                error_entry(
                    t("the file may be at most {max_size} bytes", max_size=max_size), field="file"
                )
            ],
        )
    media_type = media_type_of(name, data[:512])
    if not _accepts(accept, name, media_type):
        allowed = ", ".join(accept or []) or t("any file but a program")
        raise FileTypeRefused(
            t("{name} ({media_type}) is not allowed here", name=name, media_type=media_type),
            [error_entry(t("allowed: {types}", types=allowed), field="file")],
        )


def _check_stored(row: Any, max_size: int, accept: list[str] | None) -> None:
    if row["size"] > max_size:
        raise FileTooLarge(
            t("{name} is too large", name=row["name"]),
            [
                error_entry(
                    t("the file may be at most {max_size} bytes", max_size=max_size), field="file"
                )
            ],
        )
    if not _accepts(accept, row["name"], row["media_type"]):
        raise FileTypeRefused(
            t("{name} is not allowed here", name=row["name"]),
            [error_entry(t("allowed: {types}", types=", ".join(accept or [])), field="file")],
        )


__all__ = [
    "DEFAULT_MAX_SIZE",
    "FileStore",
    "FileTooLarge",
    "FileTypeRefused",
    "file_ids",
    "files_table",
    "media_type_of",
    "sniff",
]

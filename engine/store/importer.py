"""Import records from CSV or XLSX: map columns, cleanse, find duplicates, validate, commit in batches.

The counterpart of ``export``. A file is read as a stream (CSV in UTF-8 with or
without a BOM, falling back to GB18030 for Chinese Excel exports; XLSX in
openpyxl's read-only mode), so a large file never sits in memory. Every row
goes through the record service as the importing user: the same validation,
rules, permissions and audit as a record created by hand.

- **Columns** map to fields by key, by label (any language of ``x-label``)
  or by an explicit ``mapping`` (``-`` leaves a column out); unknown columns are
  reported and ignored.
- **Cleansing**: text is trimmed; e-mail and phone cells are cleansed
  (``engine.forms.cleansing``: e-mail lower-cased, phone in E.164). Company names are compared in a
  normalised form (full-width to half-width, case folded, legal suffixes such
  as 有限公司 or Co., Ltd. removed); the stored name stays as written.
- **Duplicates** against existing records and within the file: the same
  e-mail, the same phone, or the same normalised company + person name
  (``match`` changes the keys). The ``policy`` decides: ``skip``, ``update``
  (fill the existing record with the row's non-empty values), ``flag``
  (create, point ``duplicate_of`` at the original when the entity has such a
  field, and report) or ``create``.
- **Batches**: rows are committed ``batch_size`` at a time; a rejected row is
  reported (row number, column, field, reason) and the rest of its batch is
  kept. A checkpoint row in ``ts_import_run`` moves in the same transaction as
  each batch, so an interrupted import of the same file resumes after the last
  committed batch without duplicating rows. ``all_or_nothing`` makes the whole
  file one transaction: one rejected row and nothing is stored.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Column, Integer, String, Table, Text, insert, select, update

from engine.errors import PermissionDenied, TesseraError, ValidationError, error_entry
from engine.forms.cleansing import normalize_company, normalize_email, normalize_phone
from engine.i18n import t as _t
from engine.store.system import system_metadata
from engine.store.types import IdType, UTCDateTime

BATCH = 500
POLICIES = ("skip", "update", "flag", "create")
#: A mapping's field for a column the user leaves out (``map=Notes=-``).
IGNORE = "-"

#: The checkpoint table lives with the engine's own tables (created with them, backed up).
import_metadata = system_metadata

#: One row per import of a file: where it stopped, so the same file resumes there.
import_runs = Table(
    "ts_import_run",
    import_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("entity", String(64), nullable=False),
    Column("file_hash", String(64), nullable=False),
    Column("next_row", Integer, nullable=False),  # the first data row not yet committed
    Column("status", String(16), nullable=False),  # running | done | failed | rolled_back
    Column("counts", Text, nullable=False),  # JSON
    Column("header", Text),  # JSON: the file's columns, for the report
    Column("report", Text, nullable=False, default=""),  # CSV lines of rejected rows
    Column("started_by", String(64)),
    Column("started_on", UTCDateTime, nullable=False),
    Column("updated_on", UTCDateTime, nullable=False),
)


_SPACES = re.compile(r"\s+")


# ---------------------------------------------------------------- reading


@dataclass
class Source:
    """A file to import: its header, rows (1-based spreadsheet row numbers) and hash."""

    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    file_hash: str
    total: int  # progress units (bytes for CSV, rows for XLSX)
    position: Callable[[], int]


def _hash_and_encoding(path: Path) -> tuple[str, str]:
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with path.open("rb") as f:
        first = True
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            if first and chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[3:]
            first = False
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    return digest.hexdigest(), ("utf-8-sig" if utf8 else "gb18030")


def open_source(path: str | Path, *, fmt: str | None = None) -> Source:
    """Open ``path`` as CSV or XLSX (by ``fmt``, else the extension, else the content)."""
    path = Path(path)
    with path.open("rb") as f:
        magic = f.read(4)
    fmt = fmt or (
        "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") or magic == b"PK\x03\x04" else "csv"
    )
    file_hash, encoding = _hash_and_encoding(path)
    if fmt == "xlsx":
        return _open_xlsx(path, file_hash)
    if fmt != "csv":
        raise ValidationError(
            _t("cannot import {format} files", format=repr(fmt)),
            [error_entry(_t("use csv or xlsx"), field="format")],
        )
    raw = path.open("rb")
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raw.close()
        raise _unreadable(exc, 1) from None
    if header is None:
        raw.close()
        raise ValidationError(
            _t("the file is empty"), [error_entry(_t("no header row"), field="file")]
        )

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for cells in reader:
                if any(c.strip() for c in cells):
                    yield reader.line_num, cells
        except (UnicodeDecodeError, csv.Error) as exc:
            # not text in UTF-8 or GB 18030 (a picture sent as CSV, say): a located refusal
            raise _unreadable(exc, reader.line_num + 1) from None
        finally:
            raw.close()

    size = path.stat().st_size

    def position() -> int:
        return size if raw.closed else raw.tell()

    return Source(header, rows(), file_hash, size, position)


def _unreadable(exc: Exception, line: int) -> ValidationError:
    return ValidationError(
        _t("the file is not readable CSV text near line {line}", line=line),
        [error_entry(_t("line {line}: {problem}", line=line, problem=exc), field="file")],
    )


def _open_xlsx(path: Path, file_hash: str) -> Source:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ValidationError(
            _t("the file is not a readable XLSX workbook"), [error_entry(str(exc), field="file")]
        ) from None
    sheet = workbook.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    first = next(it, None)
    if first is None:
        workbook.close()
        raise ValidationError(
            _t("the file is empty"), [error_entry(_t("no header row"), field="file")]
        )
    header = ["" if v is None else str(v) for v in first]
    seen = [1]

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for n, cells in enumerate(it, start=2):
                seen[0] = n
                if any(c is not None and str(c).strip() for c in cells):
                    yield n, list(cells)
        finally:
            workbook.close()

    return Source(header, rows(), file_hash, sheet.max_row or 0, lambda: seen[0])


# ---------------------------------------------------------------- mapping and values


def _key(text: Any) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", str(text)).strip().casefold())


def importable_fields(model: Any) -> dict[str, Any]:
    return {
        f.key: f
        for f in model.active_fields()
        if f.child is None and f.stored and not f.read_only and f.type.name != "autonumber"
    }


def map_columns(
    model: Any, header: list[str], mapping: dict[str, str] | None = None
) -> tuple[dict[int, Any], list[dict[str, Any]]]:
    """Column index → field, and the columns that map to nothing (as error entries)."""
    fields = importable_fields(model)
    by_name: dict[str, str] = {}
    for f in fields.values():
        label = f.label
        names = list(label.values()) if isinstance(label, dict) else [label]
        for name in [f.key, *names]:
            by_name.setdefault(_key(name), f.key)
    explicit = {_key(k): v for k, v in (mapping or {}).items()}
    bad = [
        error_entry(_t("{value} is not a field that can be imported", value=repr(v)), field=k)
        for k, v in (mapping or {}).items()
        if v not in fields and v != IGNORE
    ]
    if bad:
        raise ValidationError(_t("the column mapping is invalid"), bad)
    columns: dict[int, Any] = {}
    unknown = []
    taken: set[str] = set()
    for i, name in enumerate(header):
        key = explicit.get(_key(name)) or by_name.get(_key(name))
        if key == IGNORE:  # the user chose to leave this column out
            continue
        if key is None or key in taken:
            why = (
                _t("column {name} is mapped twice; ignored", name=repr(name))
                if key
                else _t("column {name} matches no field; ignored", name=repr(name))
            )
            unknown.append(error_entry(why, column=i + 1, field=None))
            continue
        taken.add(key)
        columns[i] = fields[key]
    return columns, unknown


_TRUE = {"true", "yes", "y", "1", "是", "对", "x", "✓"}
_FALSE = {"false", "no", "n", "0", "否", "错", ""}
_SPLIT = re.compile(r"\s*[,;，；、]\s*")


def cell_value(f: Any, value: Any, tz: Any) -> Any:
    """One cell → the value the record service takes (left as text when it does not parse,
    so validation reports it)."""
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
    if value is None:
        return None
    kind = f.type.name
    prop = f.prop
    if kind == "email":
        return normalize_email(str(value))
    if kind == "phone":
        return normalize_phone(str(value))
    if kind in ("integer", "duration", "reference"):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).replace(",", ""))
        except ValueError:
            return str(value)
    if kind in ("decimal", "currency", "percent"):
        try:
            return Decimal(str(value).replace(",", "").replace("¥", "").replace("￥", ""))
        except InvalidOperation:
            return str(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = _key(value)
        return True if text in _TRUE else False if text in _FALSE else str(value)
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value).replace("/", "-")
    if kind == "datetime":
        if isinstance(value, dt.datetime):
            stamp = value if value.tzinfo else value.replace(tzinfo=tz)
            return stamp.isoformat()
        text = str(value).replace("/", "-")
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).isoformat()
    if kind in ("multi_select", "tags"):
        items = value if isinstance(value, list) else _SPLIT.split(str(value))
        options = (prop.get("items") or {}).get("enum")
        return [_option(prop, i, options) for i in items if str(i).strip()]
    if "enum" in prop:
        return _option(prop, value, prop["enum"])
    return str(value) if not isinstance(value, str) else value


def _option(prop: dict[str, Any], value: Any, options: list[Any] | None) -> Any:
    """An option by its value or any of its labels (``x-options-labels``)."""
    if not options or value in options:
        return value
    wanted = _key(value)
    labels = prop.get("x-options-labels") or {}
    for option in options:
        names = [option]
        label = labels.get(option)
        names += list(label.values()) if isinstance(label, dict) else [label] if label else []
        if any(_key(n) == wanted for n in names):
            return option
    return value


# ---------------------------------------------------------------- duplicates


def default_match(model: Any) -> list[list[str]]:
    """Match keys found from the entity: e-mail, phone, and company + person name."""
    fields = importable_fields(model)
    email = next((k for k, f in fields.items() if f.type.name == "email"), None)
    email = email or next((k for k in fields if "email" in k or "mail" in k), None)
    phone = next((k for k, f in fields.items() if f.type.name == "phone"), None)
    phone = phone or next((k for k in fields if k in ("phone", "mobile", "tel", "telephone")), None)
    company = next(
        (k for k in fields if ("company" in k or k == "organisation") and "norm" not in k), None
    )
    person = next(
        (k for k in ("person_name", "full_name", "contact_name", "person", "name") if k in fields),
        None,
    )
    out = [[k] for k in (email, phone) if k]
    if company and person and company != person:
        out.append([company, person])
    return out


def parse_match(text: str | list[str] | None, model: Any) -> list[list[str]]:
    """``"email,phone,company+person_name"`` → ``[["email"], ["phone"], ["company", "person_name"]]``."""
    if text is None:
        return default_match(model)
    specs = text if isinstance(text, list) else [s for s in text.split(",") if s.strip()]
    out, bad = [], []
    for spec in specs:
        keys = [k.strip() for k in spec.split("+") if k.strip()]
        bad += [k for k in keys if k not in model.fields]
        if keys:
            out.append(keys)
    if bad:
        raise ValidationError(
            _t("unknown match fields"),
            [
                error_entry(
                    _t("{field} is not a field of {entity}", field=k, entity=model.name),
                    field="match",
                )
                for k in bad
            ],
        )
    return out


def _match_value(f: Any, value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = str(value)
    if f.type.name == "email":
        return normalize_email(text).casefold()
    if f.type.name == "phone":
        digits = normalize_phone(text)
        return digits or None
    return normalize_company(text) or None


class _Ref:
    """A record a match key points at: an existing id, or a row of this file."""

    __slots__ = ("dead", "id", "row")

    def __init__(self, record_id: int | None, row: int | None) -> None:
        self.id, self.row, self.dead = record_id, row, False


class DuplicateIndex:
    """Match keys → the record (existing or imported earlier in the file) that has them."""

    def __init__(self, model: Any, specs: list[list[str]]) -> None:
        self.model = model
        self.specs = specs
        self.keys: list[dict[tuple[str, ...], _Ref]] = [{} for _ in specs]

    def keys_of(self, record: dict[str, Any]) -> list[tuple[str, ...] | None]:
        out: list[tuple[str, ...] | None] = []
        for spec in self.specs:
            parts = [_match_value(self.model.fields[k], record.get(k)) for k in spec]
            out.append(None if any(p is None for p in parts) else tuple(parts))  # type: ignore[arg-type]
        return out

    def find(self, keys: list[tuple[str, ...] | None]) -> tuple[_Ref, str] | None:
        for spec, index, key in zip(self.specs, self.keys, keys):
            if key is not None:
                ref = index.get(key)
                if ref is not None and not ref.dead:
                    return ref, "+".join(spec)
        return None

    def add(self, keys: list[tuple[str, ...] | None], ref: _Ref) -> None:
        for index, key in zip(self.keys, keys):
            if key is not None and (key not in index or index[key].dead):
                index[key] = ref

    def load(self, conn: Any, live: Any) -> None:
        """Index every stored record (the whole table: a duplicate is one whoever can see it)."""
        needed = {k for spec in self.specs for k in spec}
        fields = [self.model.fields[k] for k in needed if self.model.fields[k].stored]
        if not fields or not self.specs:
            return
        cols = [live.table.c.id, *(live.table.c[f.column] for f in fields)]
        for row in conn.execute(select(*cols)).yield_per(5000):
            record = {f.key: row[i + 1] for i, f in enumerate(fields)}
            self.add(self.keys_of(record), _Ref(row[0], None))


# ---------------------------------------------------------------- the import


@dataclass
class ImportResult:
    entity: str
    run_id: int | None = None
    policy: str = "skip"
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    flagged: int = 0
    rejected: int = 0
    committed: bool = True
    resumed_from: int | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rejected_rows: list[tuple[int, list[Any], list[dict[str, Any]]]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            k: getattr(self, k)
            for k in ("rows", "created", "updated", "skipped", "flagged", "rejected")
        }

    def to_dict(self, limit: int = 1000) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "run_id": self.run_id,
            "policy": self.policy,
            **self.counts(),
            "committed": self.committed,
            "resumed_from": self.resumed_from,
            "mapping": self.mapping,
            "unknown_columns": self.unknown_columns,
            "errors": self.errors[:limit],
            "duplicates": self.duplicates[:limit],
        }

    def report_csv(self, out: IO[str]) -> int:
        """The rejected rows: row number, reasons, then the row's cells as read."""
        return write_report(out, self.header, _report_lines(self.rejected_rows))


def _report_lines(rejected: list[tuple[int, list[Any], list[dict[str, Any]]]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row, cells, errors in rejected:
        reasons = "; ".join(
            f"{e.get('column_name') or e.get('field') or '-'}: {e['message']}" for e in errors
        )
        writer.writerow([row, reasons, *("" if c is None else c for c in cells)])
    return buf.getvalue()


def write_report(out: IO[str], header: list[str], lines: str) -> int:
    writer = csv.writer(out)
    writer.writerow(["row", "errors", *header])
    out.write(lines)
    return lines.count("\n")


class _Rollback(Exception):
    pass


class Importer:
    """One import of one file into one entity as one user (``None``: the system)."""

    def __init__(
        self,
        platform: Any,
        entity: str,
        user: str | None = None,
        *,
        mapping: dict[str, str] | None = None,
        policy: str = "skip",
        match: str | list[str] | None = None,
        all_or_nothing: bool = False,
        batch_size: int = BATCH,
        resume: bool = True,
        progress: Callable[[int, int], None] | None = None,
        after_batch: Callable[[int], None] | None = None,
    ) -> None:
        if policy not in POLICIES:
            raise ValidationError(
                f"unknown policy {policy!r}",
                [error_entry(f"use one of {', '.join(POLICIES)}", field="policy")],
            )
        self.p = platform
        self.entity = entity
        self.user = user
        self.service = platform.records(entity, user)
        self.model = self.service.model
        self.mapping = mapping or {}
        self.policy = policy
        self.specs = parse_match(match, self.model)
        self.all_or_nothing = all_or_nothing
        self.batch_size = max(1, batch_size)
        self.resume = resume
        self.progress = progress
        #: Test hook: called with the run id after each committed batch.
        self.after_batch = after_batch
        dup = self.model.fields.get("duplicate_of")
        self.flag_field = "duplicate_of" if dup is not None and dup.ref == entity else None
        access = self.service.access
        if access is not None:
            access.require(entity, "import")
            access.require(entity, "create")
            if policy == "update":
                access.require(entity, "update")

    # -- the run -------------------------------------------------------------

    def run(self, path: str | Path, *, fmt: str | None = None) -> ImportResult:
        source = open_source(path, fmt=fmt)
        columns, unknown = map_columns(self.model, source.header, self.mapping)
        result = ImportResult(self.entity, policy=self.policy, header=source.header)
        result.mapping = {source.header[i]: f.key for i, f in columns.items()}
        for e in unknown:
            e["column_name"] = source.header[e["column"] - 1]
        result.unknown_columns = unknown
        self.columns = columns
        self._header = source.header
        import_metadata.create_all(self.p.db.engine, checkfirst=True)
        start = self._open_run(source, result)
        index = DuplicateIndex(self.model, self.specs)
        with self.p.db.transaction(write=False) as conn:
            index.load(conn, self.service.live)
        self.index = index
        try:
            if self.all_or_nothing:
                self._run_whole(source, result, start)
            else:
                self._run_batches(source, result, start)
        except BaseException:
            self._close_run(result, "failed")
            raise
        return result

    def _run_whole(self, source: Source, result: ImportResult, start: int) -> None:
        try:
            with self.p.db.transaction() as conn:
                batch: list[tuple[int, list[Any]]] = []
                for n, cells in source.rows:
                    batch.append((n, cells))
                    if len(batch) >= self.batch_size:
                        self._batch(conn, batch, result)
                        self._tick(source)
                        batch = []
                if batch:
                    self._batch(conn, batch, result)
                self._tick(source)
                if result.rejected:
                    raise _Rollback
        except _Rollback:
            result.committed = False
            self._close_run(result, "rolled_back")
            return
        self._close_run(result, "done")

    def _run_batches(self, source: Source, result: ImportResult, start: int) -> None:
        batch: list[tuple[int, list[Any]]] = []
        for n, cells in source.rows:
            if n < start:
                continue
            batch.append((n, cells))
            if len(batch) >= self.batch_size:
                self._commit_batch(batch, result, source)
                batch = []
        if batch:
            self._commit_batch(batch, result, source)
        self._close_run(result, "done")

    def _commit_batch(
        self, batch: list[tuple[int, list[Any]]], result: ImportResult, source: Source
    ) -> None:
        before = len(result.rejected_rows)
        with self.p.db.transaction() as conn:
            self._batch(conn, batch, result)
            lines = _report_lines(result.rejected_rows[before:])
            conn.execute(
                update(import_runs)
                .where(import_runs.c.id == result.run_id)
                .values(
                    next_row=batch[-1][0] + 1,
                    counts=json.dumps(result.counts()),
                    report=import_runs.c.report + lines,
                    updated_on=self.p.clock.now(),
                )
            )
        self._tick(source)
        if self.after_batch is not None:
            self.after_batch(result.run_id)

    def _tick(self, source: Source) -> None:
        if self.progress is not None:
            self.progress(source.position(), source.total)

    # -- checkpoints ---------------------------------------------------------

    def _open_run(self, source: Source, result: ImportResult) -> int:
        now = self.p.clock.now()
        t = import_runs
        with self.p.db.transaction() as conn:
            if self.resume and not self.all_or_nothing:
                found = conn.execute(
                    select(t.c.id, t.c.next_row, t.c.counts)
                    .where(
                        t.c.entity == self.entity,
                        t.c.file_hash == source.file_hash,
                        t.c.status.in_(("running", "failed")),
                        t.c.started_by == self.user if self.user else t.c.started_by.is_(None),
                    )
                    .order_by(t.c.id.desc())
                    .limit(1)
                ).first()
                if found is not None:
                    result.run_id, start = int(found.id), int(found.next_row)
                    for k, v in json.loads(found.counts).items():
                        setattr(result, k, v)
                    result.resumed_from = start
                    conn.execute(
                        update(t).where(t.c.id == found.id).values(status="running", updated_on=now)
                    )
                    return start
            result.run_id = conn.execute(
                insert(t)
                .values(
                    entity=self.entity,
                    file_hash=source.file_hash,
                    next_row=2,
                    status="running",
                    counts=json.dumps(result.counts()),
                    header=json.dumps(source.header, ensure_ascii=False),
                    report="",
                    started_by=self.user,
                    started_on=now,
                    updated_on=now,
                )
                .returning(t.c.id)
            ).scalar_one()
        return 2

    def _close_run(self, result: ImportResult, status: str) -> None:
        values: dict[str, Any] = {
            "status": status,
            "counts": json.dumps(result.counts()),
            "updated_on": self.p.clock.now(),
        }
        if status == "rolled_back":
            values["report"] = _report_lines(result.rejected_rows)
        with self.p.db.transaction() as conn:
            conn.execute(
                update(import_runs).where(import_runs.c.id == result.run_id).values(values)
            )

    # -- one batch -----------------------------------------------------------

    def _record(self, cells: list[Any]) -> dict[str, Any]:
        tz = self.p.clock.timezone
        record = {}
        for i, f in self.columns.items():
            value = cell_value(f, cells[i] if i < len(cells) else None, tz)
            if value is not None:
                record[f.key] = value
        return record

    def _batch(self, conn: Any, batch: list[tuple[int, list[Any]]], result: ImportResult) -> None:
        pending: list[tuple[int, list[Any], dict[str, Any], _Ref, list[Any]]] = []
        flagged: list[tuple[dict[str, Any], _Ref]] = []

        def flush() -> None:
            if pending:
                self._create(conn, pending, result)
                pending.clear()

        for n, cells in batch:
            result.rows += 1
            record = self._record(cells)
            keys = self.index.keys_of(record)
            found = self.index.find(keys) if self.policy != "create" else None
            if found is None:
                ref = _Ref(None, n)
                self.index.add(keys, ref)
                pending.append((n, cells, record, ref, keys))
                continue
            ref, spec = found
            if ref.id is None:  # a row of this batch not written yet
                flush()
                if ref.dead:
                    ref2 = _Ref(None, n)
                    self.index.add(keys, ref2)
                    pending.append((n, cells, record, ref2, keys))
                    continue
            dup = {"row": n, "match": spec, "record_id": ref.id, "file_row": ref.row}
            if self.policy == "skip":
                result.skipped += 1
                result.duplicates.append({**dup, "action": "skipped"})
            elif self.policy == "update":
                flush()
                self._update(conn, n, cells, record, ref, result, dup)
            else:  # flag
                if self.flag_field:
                    record[self.flag_field] = ref.id
                new = _Ref(None, n)
                pending.append((n, cells, record, new, []))
                dup["action"] = "flagged"
                result.duplicates.append(dup)
                result.flagged += 1
                flagged.append((dup, new))
        flush()
        for dup, new in flagged:  # the record a flagged row became, for the review
            dup["created_id"] = None if new.dead else new.id

    def _reject(
        self, result: ImportResult, n: int, cells: list[Any], errors: list[dict[str, Any]]
    ) -> None:
        by_field = {f.key: (i, self.result_header(i)) for i, f in self.columns.items()}
        entries = []
        for e in errors:
            key = re.sub(r"^\[\d+\]\.", "", e.get("field") or "") or None
            col = by_field.get((key or "").split(".")[0].split("[")[0])
            entries.append(
                {
                    "row": n,
                    "column": None if col is None else col[0] + 1,
                    "column_name": None if col is None else col[1],
                    "field": key,
                    "message": e.get("message"),
                }
            )
        result.rejected += 1
        result.errors.extend(entries)
        result.rejected_rows.append((n, cells, entries))

    def result_header(self, i: int) -> str:
        return self._header[i]

    def _create(
        self,
        conn: Any,
        items: list[tuple[int, list[Any], dict[str, Any], _Ref, list[Any]]],
        result: ImportResult,
    ) -> None:
        """Create the rows; the ones refused are reported and the others kept."""
        todo = list(items)
        while todo:
            try:
                with self.service.platform.db.savepoint():
                    created = self.service.create_many(
                        [r for _, _, r, _, _ in todo], returning="ids"
                    )
            except ValidationError as exc:
                blamed: dict[int, list[dict[str, Any]]] = {}
                for e in exc.errors:
                    m = re.match(r"^\[(\d+)\]\.", e.get("field") or "")
                    if m:
                        blamed.setdefault(int(m.group(1)), []).append(e)
                if not blamed:
                    self._create_one_by_one(conn, todo, result)
                    return
                for i in sorted(blamed):
                    n, cells, _, ref, _ = todo[i]
                    ref.dead = True
                    self._reject(result, n, cells, blamed[i])
                todo = [t for i, t in enumerate(todo) if i not in blamed]
                continue
            except PermissionDenied:
                self._create_one_by_one(conn, todo, result)
                return
            for (_, _, _, ref, _), rid in zip(todo, created):
                ref.id = rid
            result.created += len(created)
            return

    def _create_one_by_one(self, conn: Any, todo: list[Any], result: ImportResult) -> None:
        for n, cells, record, ref, _ in todo:
            try:
                with self.service.platform.db.savepoint():
                    ref.id = self.service.create(record)["id"]
                result.created += 1
            except TesseraError as exc:
                ref.dead = True
                self._reject(result, n, cells, exc.errors)

    def _update(
        self,
        conn: Any,
        n: int,
        cells: list[Any],
        record: dict[str, Any],
        ref: _Ref,
        result: ImportResult,
        dup: dict[str, Any],
    ) -> None:
        try:
            with self.service.platform.db.savepoint():
                self.service.update(ref.id, record)
        except TesseraError as exc:
            self._reject(result, n, cells, exc.errors)
            return
        result.updated += 1
        result.duplicates.append({**dup, "action": "updated"})
        self.index.add(self.index.keys_of(record), ref)


def import_file(
    platform: Any, entity: str, path: str | Path, user: str | None = None, **options: Any
) -> ImportResult:
    """Import ``path`` into ``entity`` as ``user``; see :class:`Importer` for the options."""
    fmt = options.pop("fmt", None)
    importer = Importer(platform, entity, user, **options)
    return importer.run(path, fmt=fmt)


def run_report(platform: Any, run_id: int, user: str | None) -> tuple[str, dict[str, Any]]:
    """The rejected-rows report of a run as CSV text (only for the user who ran it, or admin)."""
    from engine.errors import NotFound

    import_metadata.create_all(platform.db.engine, checkfirst=True)
    with platform.db.transaction(write=False) as conn:
        row = conn.execute(select(import_runs).where(import_runs.c.id == run_id)).mappings().first()
    allowed = row is not None and (
        user is None or row["started_by"] == user or platform.access(user).admin
    )
    if not allowed:
        raise NotFound(f"no import run {run_id}", [error_entry("unknown import run", field="id")])
    out = io.StringIO()
    write_report(out, json.loads(row["header"] or "[]"), row["report"] or "")
    info = {k: row[k] for k in ("id", "entity", "status", "next_row")}
    info["counts"] = json.loads(row["counts"])
    return out.getvalue(), info


__all__ = [
    "BATCH",
    "IGNORE",
    "POLICIES",
    "DuplicateIndex",
    "ImportResult",
    "Importer",
    "cell_value",
    "default_match",
    "import_file",
    "import_runs",
    "map_columns",
    "open_source",
    "run_report",
]

"""The record service: create, read, update, delete and list records of one entity as a user.

Each call is one transaction: the row, its child rows, its autonumbers, its
audit entry and what the save hook did (the rule pipeline, see
``engine.store.hooks``) commit together or not at all. Values go in and come out in their
Python form (see ``engine.forms.fieldtypes``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, overload

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from engine.errors import (
    ConflictError,
    NotFound,
    PermissionDenied,
    TesseraError,
    ValidationError,
    error_entry,
)
from engine.forms.entity import label_text
from engine.forms.record_codec import new_row_template
from engine.forms.sections import unless_hidden
from engine.i18n import current_language, t
from engine.store import audit, lone_create
from engine.store.bulk import (
    bulk_insert,
    collector_paused,
    insert_records,
    prepared_insert,
    taking_id_cte,
)
from engine.store.fixed import FixedStatement, execute_driver
from engine.store.query import child_rows, order_clauses, simple_filters
from engine.store.schema import fk_name
from engine.store.values import (
    SYSTEM_KEYS,
    input_errors,
    known_fields,
    record_from_row,
    row_values,
)

if TYPE_CHECKING:
    from engine.ports import PlatformPort
    from engine.store.registry import LiveEntity


#: From this many records on, create_many pauses the cyclic garbage collector.
BATCH_WITHOUT_GC = 100
#: The keys a new row's system fields take (not the record's own fields).


class RecordService:
    """Records of one entity, acting as ``user`` (``None`` acts as the system)."""

    def __init__(
        self, platform: PlatformPort, entity: str, user: str | None = None, *, check: bool = True
    ) -> None:
        self.platform = platform
        self.entity = entity
        self.user = user
        self.live: LiveEntity = platform.entities.get(entity)
        self.model = self.live.model
        #: The permission layer for ``user``; None when acting as the system (or ``check=False``:
        #: the engine itself writing on a user's behalf, as a bundle's seed data does).
        self.access = platform.access(user) if (user is not None and check) else None

    # -- reading ---------------------------------------------------------------

    def get(self, record_id: int) -> dict[str, Any]:
        """The record with ``record_id``; raises NotFound."""
        with self.platform.db.transaction(write=False) as conn:
            if self.access is not None:
                self.access.require_row(conn, self.entity, "read", self.live.table, record_id)
            return self._visible(self._get(conn, record_id))

    def _get(self, conn: Connection, record_id: int, *, lock: bool = False) -> dict[str, Any]:
        found = self._by_id(lock).mappings(conn, {"id": record_id})
        row = found[0] if found else None
        if row is None:
            gone = t("{entity} {id} does not exist", entity=self.entity, id=record_id)
            raise NotFound(
                gone,
                [error_entry(gone, field="id")],
            )
        record = record_from_row(self.model, row)
        for key, rows in child_rows(conn, self.live, [record_id]).items():
            record[key] = rows.get(record_id, [])
        self.platform.lookups.fill(conn, self.model, [record], stored=False)
        return record

    def _by_id(self, lock: bool) -> FixedStatement:
        """The read of one row by id (locked for an update), built once per entity version:
        a wide entity's ``select`` costs far more to build and execute through SQLAlchemy
        each time than the read itself."""
        key = "by_id_locked" if lock else "by_id"
        found = self.live.statements.get(key)
        if found is None:
            table = self.live.table
            stmt = select(table).where(table.c.id == bindparam("id"))
            if lock:
                stmt = stmt.with_for_update()
            found = self.live.statements[key] = FixedStatement(stmt)
        return found

    def list(
        self,
        where: str | None = None,
        order_by: str | Iterable[str] | None = None,
        limit: int | None = 50,
        offset: int = 0,
        *,
        filters: dict[str, Any] | None = None,
        children: bool = False,
    ) -> list[dict[str, Any]]:
        """Records matching ``where`` (rule language) and ``filters`` (field == value)."""
        table = self.live.table
        stmt = select(table)
        if self.access is not None and order_by:
            keys = [order_by] if isinstance(order_by, str) else list(order_by)
            names = {k.strip().lstrip("-+") for key in keys for k in key.split(",")}
            self.access.refuse_reads(self.entity, names, "order_by")
        for clause in self._conditions(where, filters):
            stmt = stmt.where(clause)
        stmt = stmt.order_by(*order_clauses(self.model, table, order_by))
        if limit is not None:
            stmt = stmt.limit(limit)
        if offset:
            stmt = stmt.offset(offset)
        with self.platform.db.transaction(write=False) as conn:
            rows = [record_from_row(self.model, r) for r in conn.execute(stmt).mappings()]
            self.platform.lookups.fill(conn, self.model, rows, stored=False)
            if children and rows:
                kids = child_rows(conn, self.live, [r["id"] for r in rows])
                for r in rows:
                    for key, by_parent in kids.items():
                        r[key] = by_parent.get(r["id"], [])
        return [self._visible(r) for r in rows]

    def count(self, where: str | None = None, *, filters: dict[str, Any] | None = None) -> int:
        stmt = select(func.count()).select_from(self.live.table)
        for clause in self._conditions(where, filters):
            stmt = stmt.where(clause)
        with self.platform.db.transaction(write=False) as conn:
            return int(conn.execute(stmt).scalar_one())

    def count_upto(
        self, bound: int, where: str | None = None, *, filters: dict[str, Any] | None = None
    ) -> tuple[int, bool]:
        """How many records match, counted no further than ``bound``: ``(n, True)``, or
        ``(bound, False)`` when more match. The database stops reading after ``bound + 1``
        rows, so a list over millions of rows never waits on a full ``count(*)``."""
        inner = select(self.live.table.c.id)
        for clause in self._conditions(where, filters):
            inner = inner.where(clause)
        stmt = select(func.count()).select_from(inner.limit(bound + 1).subquery())
        with self.platform.db.transaction(write=False) as conn:
            n = int(conn.execute(stmt).scalar_one())
        return (n, True) if n <= bound else (bound, False)

    def _conditions(self, where: str | None, filters: dict[str, Any] | None) -> list[Any]:
        access = self.access
        if access is not None:
            access.refuse_reads(self.entity, set(filters or {}), "filters")
            if where:
                reads = self.platform.rules.compile(where, self.entity).reads()
                access.refuse_reads(self.entity, set(reads), "where")
        clauses = simple_filters(self.model, self.live.table, filters or {})
        if where:
            user = access.rule_user() if access is not None else None
            clauses.append(self.platform.where_clause(self.entity, where, self.live.table, user))
        if access is not None:
            clauses.append(access.clause(self.entity, "read", self.live.table))
        return clauses

    def _visible_fn(self) -> Any:
        """``_visible`` with this user's hidden fields looked up once, for a batch."""
        hidden = None if self.access is None else self.access.hidden(self.entity)
        if not hidden:
            return _show_all
        return lambda record: {k: v for k, v in record.items() if k not in hidden}

    def _visible(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record without the fields hidden from this user."""
        if self.access is None:
            return record
        hidden = self.access.hidden(self.entity)
        return {k: v for k, v in record.items() if k not in hidden} if hidden else record

    def export(self, fmt: str, out: Any, where: str | None = None, *, lang: str = "en") -> int:
        """Write the records this user may export as ``csv`` (text stream) or ``xlsx``
        (binary stream), streamed page by page; returns how many were written."""
        from engine.store import export

        if fmt not in ("csv", "xlsx"):
            raise ValidationError(
                t("cannot export as {format}", format=repr(fmt)),
                [error_entry(t("use csv or xlsx"), field="format")],
            )
        if self.access is not None:
            self.access.require(self.entity, "export")
        writer = export.write_csv if fmt == "csv" else export.write_xlsx
        return writer(self, out, where, lang=lang)

    def history(self, record_id: int) -> list[dict[str, Any]]:
        """The audit trail of one record, oldest first."""
        with self.platform.db.transaction(write=False) as conn:
            return audit.history(conn, self.entity, record_id)

    # -- writing ---------------------------------------------------------------

    def create(self, data: dict[str, Any], *, internal: bool = False) -> dict[str, Any]:
        """Validate and insert one record (with its child rows); returns it with ``id``."""
        return self.create_many([data], internal=internal, _single=True)[0]

    @overload
    def create_many(
        self,
        rows: list[dict[str, Any]],
        *,
        internal: bool = ...,
        returning: Literal["records"] = ...,
        _single: bool = ...,
    ) -> list[dict[str, Any]]: ...
    @overload
    def create_many(
        self,
        rows: list[dict[str, Any]],
        *,
        internal: bool = ...,
        returning: Literal["ids"],
        _single: bool = ...,
    ) -> list[Any]: ...
    def create_many(
        self,
        rows: list[dict[str, Any]],
        *,
        internal: bool = False,
        returning: Literal["records", "ids"] = "records",
        _single: bool = False,
    ) -> list[Any]:
        """Insert many records in one transaction: all are valid and stored, or none.

        Returns the stored records as :meth:`get` shows them, or with
        ``returning="ids"`` only their ids, in the same order: an import that
        keeps nothing but the ids skips building (and freeing) a dict per record.
        The work done is the same either way (checks, rules, audit, events).
        """
        if returning not in ("records", "ids"):
            raise ValueError(f"returning must be 'records' or 'ids', not {returning!r}")
        if len(rows) < BATCH_WITHOUT_GC:
            return self._create_many(
                rows, internal=internal, _single=_single, only_ids=returning == "ids"
            )
        with collector_paused():
            return self._create_many(
                rows, internal=internal, _single=_single, only_ids=returning == "ids"
            )

    def _create_many(
        self, rows: list[dict[str, Any]], *, internal: bool, _single: bool, only_ids: bool = False
    ) -> list[Any]:
        if self.access is not None:
            self.access.require(self.entity, "create")
            # Only a field below write can be refused: no such field, no need for the rows' keys.
            if self.access.field_levels(self.entity):
                self.access.refuse_writes(self.entity, set().union(*rows))
        prepared = self._prepared_rows(rows, internal=internal, _single=_single)
        now = self.platform.clock.now()
        if _single and lone_create.applies(self):
            # PostgreSQL, nothing acting on the record: one statement in autocommit
            records = self._with_system_fields([None], prepared, now)
            lone_create.create(self, records[0], now)
            if only_ids:
                return [records[0]["id"]]
            return [self._visible_fn()(self.model.codec.public(records[0]))]
        with self.platform.db.transaction() as conn:
            if self._id_in_insert(conn, len(prepared)):
                ids: list[Any] = [None]  # taken by the INSERT (see _insert)
            else:
                ids = self.platform.ids.allocate(conn, self.live.table.name, len(prepared))
            self._fill_autonumbers(conn, prepared, now)
            self.platform.lookups.fill(conn, self.model, prepared, stored=True)
            records = self._with_system_fields(ids, prepared, now)
            # Rules run here (see engine.store.hooks): they may change the records or refuse.
            save = self.platform.save_hook.begin(
                conn, self, "created", records, [None] * len(records), prefixed=not _single
            )
            self.platform.files.attach(
                conn, self.entity, self.model, self.user, [(r, None) for r in records]
            )
            try:
                audited = self._insert(conn, records, now)
            except IntegrityError as exc:
                raise self._integrity_error(exc, conn, records) from None
            for f in self.model.child_fields():
                self._insert_children(conn, f.key, [(r["id"], r.get(f.key) or []) for r in records])
            if not audited:
                audit.write_created(
                    conn, self.entity, self.user, now, records, self.model.codec.audit_created
                )
            save.finish(conn)
            self.platform.record_written(
                self.entity, "created", records, [None] * len(records), self.user
            )
            self.platform.lookups.fill(conn, self.model, records, stored=False)
        return self._returned(records, save.warnings, only_ids)

    def _prepared_rows(
        self, rows: list[dict[str, Any]], *, internal: bool, _single: bool
    ) -> list[dict[str, Any]]:
        """The new records checked, with defaults and in Python form, each in the shape of
        its row (``new_row_template()``'s system keys first, null); ValidationError naming
        every problem of every record (``[i].field``) if any is invalid."""
        prepared, errors = [], []
        validator = None  # compiled on the first record the fast pass leaves to the general path
        # The usual record (plain fields, Python values, valid) is prepared in one generated
        # pass; _prepare_new gives the same result for it and words the errors of any other.
        fast, clock, user = self.model.codec.prepare_row, self.platform.clock, self.user
        for i, data in enumerate(rows):
            record = fast(data, clock, user)
            if record is not None:
                prepared.append(record)
                continue
            prefix = "" if _single else f"[{i}]."
            if validator is None:
                validator = self.platform.validator(self.entity)
            try:
                general = self._prepare_new(
                    data, internal=internal, prefix=prefix, validator=validator
                )
            except ValidationError as exc:
                errors.extend(exc.errors)
            else:  # owner and team, when given, take their places among the system keys
                prepared.append({**new_row_template(), **general})
        if errors:
            raise self.problems(errors)
        return prepared

    def problems(self, errors: list[dict[str, Any]]) -> ValidationError:
        """The error refusing a write with ``errors``: "N problem(s) in <entity>", the
        entity named by its label in the reader's language, as the pages name it."""
        entity = label_text(self.model.label, current_language(), self.entity)
        return ValidationError(
            t("{count} problem(s) in {entity}", count=len(errors), entity=entity), errors
        )

    def _returned(
        self, records: list[dict[str, Any]], warnings: list[Any], only_ids: bool
    ) -> list[Any]:
        """What create_many returns: the ids, or the records as :meth:`get` shows them."""
        if only_ids:
            return [r["id"] for r in records]
        public, visible = self.model.codec.public, self._visible_fn()
        if visible is _show_all and not any(warnings):
            return list(map(public, records))  # the same records, without two no-op calls each
        return [_warned(visible(public(r)), w) for r, w in zip(records, warnings)]

    def _with_system_fields(
        self, ids: list[Any], prepared: list[dict[str, Any]], now: Any
    ) -> list[dict[str, Any]]:
        """The new rows: ``prepared`` (rows of :meth:`_prepared_rows`) given, in place, their
        id, owner, team, creator, times and version 1; PermissionDenied for one outside
        what the user may create."""
        teams: dict[Any, Any] = {}
        # A first create scope of "all" allows every record (new_record_allowed stops there).
        scopes = [] if self.access is None else self.access.scopes(self.entity, "create")
        check_each = bool(scopes) and not (scopes[0] is True or scopes[0] == "all")
        user = self.user
        for rid, record in zip(ids, prepared):
            owner = record["owner"] or user
            if owner not in teams:
                teams[owner] = self.platform.user_team(owner)
            team = record["team"] or teams[owner]
            if check_each and not self.access.new_record_allowed(
                self.entity,
                {
                    **{k: v for k, v in record.items() if k not in SYSTEM_KEYS},
                    "owner": owner,
                    "team": team,
                },
            ):
                raise PermissionDenied(
                    t(
                        "{user} may not create this {entity}",
                        user=self.user,
                        entity=self.entity,
                    ),
                    [
                        error_entry(
                            t(
                                "the new record is outside what {user} may create",
                                user=self.user,
                            )
                        )
                    ],
                )
            record["id"] = rid
            record["owner"] = owner
            record["team"] = team
            record["created_by"] = user
            record["created_on"] = now
            record["modified_by"] = user
            record["modified_on"] = now
            record["version"] = 1
        return prepared

    def warm(self, conn: Connection) -> None:
        """Build what this entity's first create builds (its codec, its live rules, the
        SQL of its INSERT), writing nothing: a server worker calls it at start
        (``web.warm``) so that no client's request waits on the compilation."""
        columns = self.model.codec.insert_columns
        prepared = prepared_insert(
            conn, self.live.table, [c for c, _ in columns], [k for _, k in columns]
        )
        if not prepared.positional and self._id_in_insert(conn, 1):
            _insert_taking_id(conn, self.live.table, prepared)
            lone_create.statement(conn, self.live.table, prepared)

    def _id_in_insert(self, conn: Connection, count: int) -> bool:
        """Whether ``count`` new records on ``conn`` take their id in the INSERT (one only)."""
        return count == 1 and self.takes_id_in_insert(conn.dialect)

    def takes_id_in_insert(self, dialect: Any) -> bool:
        """Whether one new record can take its id in its own INSERT (PostgreSQL).

        Nothing may read the id before the row is written: no child rows or files
        (they point at it) and no rules (the save hook says; it gives the record
        its id itself, by :meth:`assign_ids`, if rules went live meanwhile). Saves
        the ``nextval`` round trip of an API create.
        """
        # The statement joins named bind parameters (psycopg's): a positional driver cannot.
        if dialect.name != "postgresql" or dialect.positional:
            return False
        if self.model.child_fields():
            return False
        if self.platform.save_hook.reads_new_ids(self.entity):
            return False
        from engine.store.files import file_fields

        return not file_fields(self.model)

    def assign_ids(self, conn: Connection, records: list[dict[str, Any]]) -> None:
        """Give the new records whose id is still None their ids from the table's source."""
        waiting = [r for r in records if r["id"] is None]
        fresh = self.platform.ids.allocate(conn, self.live.table.name, len(waiting))
        for record, rid in zip(waiting, fresh):
            record["id"] = rid

    def _insert(self, conn: Connection, records: list[dict[str, Any]], now: Any) -> bool:
        """Insert the new rows: one record (an API create) goes straight to the cursor.

        Same SQL and parameters as :func:`insert_records`, without SQLAlchemy's
        execution context and result object, which cost as much as the round trip
        on every create; a batch keeps ``insert_records`` (one executemany).
        On PostgreSQL the one record's INSERT also carries its audit row
        (``WITH created AS (INSERT ...) INSERT INTO ts_audit ...``: one round
        trip, not two) unless it has child rows. Returns whether the audit row
        was written.
        """
        columns = self.model.codec.insert_columns
        if len(records) != 1:
            insert_records(conn, self.live.table, columns, records)
            return False
        prepared = prepared_insert(
            conn, self.live.table, [c for c, _ in columns], [k for _, k in columns]
        )
        params = prepared.rows(records)[0]
        # Child rows get their ids after this INSERT and the audit entry shows them,
        # so a record with child fields writes its audit row after them, alone.
        if (
            conn.dialect.name != "postgresql"
            or not isinstance(params, dict)
            or self.model.child_fields()
        ):
            execute_driver(conn, prepared.sql, params)
            return False
        entry_sql, entry_params = audit.created_entry(
            conn, self.entity, self.user, now, records[0], self.model.codec.audit_created
        )
        if records[0]["id"] is None:  # the id comes from the sequence, in the same statement
            sql = _insert_taking_id(conn, self.live.table, prepared)
            cursor = execute_driver(conn, sql, {**params, **entry_params})
            records[0]["id"] = int(cursor.fetchone()[0])
            return True
        execute_driver(
            conn, f"WITH created AS ({prepared.sql}) {entry_sql}", {**params, **entry_params}
        )
        return True

    def update(
        self,
        record_id: int,
        changes: dict[str, Any],
        *,
        version: int | None = None,
        internal: bool = False,
    ) -> dict[str, Any]:
        """Change some fields. ``version`` (optional) must match the stored one: else ConflictError.

        The entity-level permission comes first: a user who may not update this entity at all
        hears 403, not a list of the entity's fields from validation.
        """
        if self.access is not None:
            self.access.require(self.entity, "update")
        errors = input_errors(self.model, changes, internal=internal)
        if errors:
            raise ValidationError(t("the changes are invalid"), errors)
        if self.access is not None:
            self.access.refuse_writes(self.entity, set(changes))
        now = self.platform.clock.now()
        with self.platform.db.transaction() as conn:
            if self.access is not None:
                self.access.require_row(conn, self.entity, "update", self.live.table, record_id)
            before = self._get(conn, record_id, lock=True)
            if version is not None and before["version"] != version:
                raise ConflictError(
                    t(
                        "{entity} {id} was changed by someone else (version {version}, you had {yours})",
                        entity=self.entity,
                        id=record_id,
                        version=before["version"],
                        yours=version,
                    ),
                    [error_entry(t("stale version"), field="version")],
                )
            merged = {k: v for k, v in before.items() if k in self.model.fields}
            merged.update({k: v for k, v in changes.items() if k in self.model.fields})
            after = self._validate(merged)
            self.platform.lookups.fill(conn, self.model, [after], stored=True)
            for key in ("owner", "team"):
                after[key] = changes.get(key, before[key])
            save = self.platform.save_hook.begin(
                conn, self, "updated", [after], [before], prefixed=False
            )
            old_view = _audit_view(self.model, before)
            new_view = _audit_view(self.model, after)
            b, a = audit.diff(old_view, new_view)
            if not a and not b:
                return _warned(self._visible(before), save.warnings[0])
            self.platform.files.attach(
                conn, self.entity, self.model, self.user, [({**after, "id": record_id}, before)]
            )
            values = row_values(self.model, {k: after[k] for k in a if k in self.model.fields})
            for key in ("owner", "team"):
                if key in a:
                    values[key] = after[key]
            values.update(modified_by=self.user, modified_on=now, version=before["version"] + 1)
            table = self.live.table
            try:
                result = conn.execute(
                    update(table)
                    .where(table.c.id == record_id, table.c.version == before["version"])
                    .values(**values)
                )
            except IntegrityError as exc:  # a unique value taken: a located 422, not a 500
                raise self._integrity_error(exc) from None
            if result.rowcount != 1:
                raise ConflictError(
                    t("{entity} {id} was changed by someone else", entity=self.entity, id=record_id)
                )
            self.platform.lookups.refresh(conn, self.entity, record_id, set(a))
            for f in self.model.child_fields():
                if f.key in a:
                    self._replace_children(
                        conn, f.key, record_id, after.get(f.key) or [], before.get(f.key) or []
                    )
            audit.write(
                conn,
                audit.audit_rows(
                    self.entity,
                    "update",
                    self.user,
                    now,
                    [(record_id, before["version"] + 1, b, a)],
                ),
            )
            save.finish(conn)
            current = self._get(conn, record_id)
            self.platform.record_written(self.entity, "updated", [current], [before], self.user)
            return _warned(self._visible(current), save.warnings[0])

    def delete(self, record_id: int) -> None:
        """Delete a record and its child rows; refused while other records refer to it."""
        if self.access is not None:
            self.access.require(self.entity, "delete")  # no delete at all: 403 before any lookup
        now = self.platform.clock.now()
        with self.platform.db.transaction() as conn:
            if self.access is not None:
                self.access.require_row(conn, self.entity, "delete", self.live.table, record_id)
            before = self._get(conn, record_id, lock=True)
            self._refuse_if_referenced(conn, record_id)
            save = self.platform.save_hook.begin(
                conn, self, "deleted", [before], [before], prefixed=False
            )
            conn.execute(delete(self.live.table).where(self.live.table.c.id == record_id))
            self.platform.files.record_deleted(conn, self.entity, record_id)
            audit.write(
                conn,
                audit.audit_rows(
                    self.entity,
                    "delete",
                    self.user,
                    now,
                    [(record_id, before["version"], _audit_view(self.model, before), {})],
                ),
            )
            save.finish(conn)
            self.platform.record_written(self.entity, "deleted", [before], [None], self.user)

    # -- helpers ---------------------------------------------------------------

    def _prepare_new(
        self, data: dict[str, Any], *, internal: bool, prefix: str, validator: Any = None
    ) -> dict[str, Any]:
        errors = input_errors(self.model, data, internal=internal, prefix=prefix)
        if errors and not isinstance(data, dict):
            raise ValidationError(t("the record is invalid"), errors)
        # Report every problem at once: the values of the known fields are checked too.
        record = self.platform.defaults(self.model, known_fields(self.model, data), self.user)
        try:
            prepared = self._validate(record, prefix=prefix, validator=validator)
        except ValidationError as exc:
            seen = {e["field"] for e in errors}
            errors += [e for e in exc.errors if e["field"] not in seen]
        if errors:
            raise ValidationError(t("the record is invalid"), errors)
        for key in ("owner", "team"):
            if data.get(key) is not None:
                prepared[key] = data[key]
        return prepared

    def _validate(
        self, record: dict[str, Any], prefix: str = "", validator: Any = None
    ) -> dict[str, Any]:
        codec = self.model.codec
        doc, typed = codec.to_json_typed(record)
        validator = validator or self.platform.validator(self.entity)
        errors = validator.errors(doc, prefix=prefix)
        if errors:
            errors = unless_hidden(
                errors,
                self.model.definition,
                record,
                lambda text: self.platform.rules.compile(text, self.entity),
                prefix,
            )
        if errors:
            raise ValidationError(t("the record is invalid"), errors)
        out = codec.to_python(doc)
        if typed:
            out.update(typed)
        return out

    def _fill_autonumbers(self, conn: Connection, records: list[dict[str, Any]], now: Any) -> None:
        today = now.astimezone(self.platform.clock.timezone).date()
        for f in self.model.active_fields():
            if f.type.name == "autonumber":
                numbers = self.platform.autonumbers.take(
                    conn, f"{self.entity}.{f.key}", f.prop["x-pattern"], today, len(records)
                )
                for record, number in zip(records, numbers):
                    record[f.key] = number

    def _insert_children(
        self, conn: Connection, key: str, parents: list[tuple[int, list[dict[str, Any]]]]
    ) -> None:
        child = self.model.fields[key].child
        assert child is not None
        table = self.live.child_tables[key]
        total = sum(len(rows) for _, rows in parents)
        fresh = iter(self.platform.ids.allocate(conn, table.name, total))
        out = []
        for parent_id, rows in parents:
            for idx, row in enumerate(rows):
                rid = row.get("id") or next(fresh)
                row["id"] = rid
                out.append(
                    {
                        "id": rid,
                        "parent_id": parent_id,
                        "idx": idx,
                        **row_values(child, row, complete=True),
                    }
                )
        self._run(conn, insert(table), out)

    def _replace_children(
        self,
        conn: Connection,
        key: str,
        parent_id: int,
        rows: list[dict[str, Any]],
        old: list[dict[str, Any]],
    ) -> None:
        known = {r["id"] for r in old}
        bad = [r["id"] for r in rows if r.get("id") is not None and r["id"] not in known]
        if bad:
            raise ValidationError(
                t("child rows belong to another record"),
                [
                    error_entry(t("row id {id} is not a row of this record", id=i), field=key)
                    for i in bad
                ],
            )
        table = self.live.child_tables[key]
        conn.execute(delete(table).where(table.c.parent_id == parent_id))
        self._insert_children(conn, key, [(parent_id, rows)])

    def _refuse_if_referenced(self, conn: Connection, record_id: int) -> None:
        problems = []
        for name, live in self.platform.entities.all().items():
            for f in live.model.stored_fields():
                if f.ref == self.entity:
                    col = live.table.c[f.column]
                    ids = (
                        conn.execute(select(live.table.c.id).where(col == record_id).limit(5))
                        .scalars()
                        .all()
                    )
                    if ids:
                        problems.append(
                            error_entry(
                                t(
                                    "{entity} {ids} refer to it through {field}",
                                    entity=name,
                                    ids=", ".join(map(str, ids)),
                                    field=f.key,
                                ),
                                field=f"{name}.{f.key}",
                            )
                        )
        if problems:
            raise ConflictError(
                t("{entity} {id} is still referenced", entity=self.entity, id=record_id), problems
            )

    def _run(self, conn: Connection, stmt: Any, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        try:
            bulk_insert(conn, stmt.table, rows)
        except IntegrityError as exc:
            raise self._integrity_error(exc) from None

    def _missing_references(
        self, conn: Connection, refs: list[Any], records: list[dict[str, Any]]
    ) -> list[tuple[str | None, Any]]:
        """(record prefix, field) of each reference value in ``records`` with no target row."""
        out: list[tuple[str | None, Any]] = []
        many = len(records) > 1
        for f in refs:
            wanted = {r.get(f.key) for r in records} - {None}
            if not wanted:
                continue
            target = self.platform.entities.get(f.ref).table
            found = set(conn.execute(select(target.c.id).where(target.c.id.in_(wanted))).scalars())
            for i, r in enumerate(records):
                if r.get(f.key) is not None and r.get(f.key) not in found:
                    out.append((f"[{i}]." if many else None, f))
        return out

    def _integrity_error(
        self,
        exc: IntegrityError,
        conn: Connection | None = None,
        records: list[dict[str, Any]] | None = None,
    ) -> TesseraError:
        text = str(exc.orig)
        for f in self.model.stored_fields():
            if f.unique and (f.column in text or f"ux_{self.live.table.name}" in text):
                label = f.key
                return ValidationError(
                    t("{field} must be unique", field=label),
                    [error_entry(t("this value is already used by another record"), field=f.key)],
                )
        refs = [f for f in self.model.stored_fields() if f.ref]
        named = [f for f in refs if fk_name(self.live.table.name, f.column or f.key) in text]
        if named or (refs and "FOREIGN KEY" in text):
            # PostgreSQL names the constraint; SQLite does not say which column failed,
            # so the batch's reference values are looked up to name the field(s).
            missing: list[tuple[str | None, Any]] = [(None, f) for f in named]
            if not missing and conn is not None and records:
                missing = self._missing_references(conn, refs, records)
            return ValidationError(
                t("a reference points at a record that does not exist"),
                [
                    error_entry(
                        t("no {entity} with this id", entity=f.ref), field=f"{where or ''}{f.key}"
                    )
                    for where, f in (missing or [(None, refs[0])])
                ],
            )
        return ValidationError(
            t("the database refused the record"), [error_entry(text.splitlines()[0])]
        )

    def _public(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.model.codec.public(record)


#: (dialect, the record INSERT's SQL, which names the table and its columns) → the SQL
_TAKING_ID: dict[tuple[str, str], str] = {}


def _insert_taking_id(conn: Connection, table: Any, prepared: Any) -> str:
    """``prepared``'s INSERT with the id from the table's sequence, then the audit row.

    ``WITH created AS (INSERT ... VALUES (nextval(seq), ...) RETURNING id)
    INSERT INTO ts_audit ... SELECT ..., created.id FROM created RETURNING
    record_id``: the bound names are ``prepared``'s and
    :func:`engine.store.audit.created_entry`'s, so their driver parameters fit
    (the id's own parameter is left unused). Compiled once per table and columns.
    """
    key = (conn.dialect.name, prepared.sql)
    found = _TAKING_ID.get(key)
    if found is None:
        from engine.store.system import audit_log

        created = taking_id_cte(table, prepared)
        stmt = audit.created_entry_of(created.c.id).returning(audit_log.c.record_id)
        if len(_TAKING_ID) > 500:
            _TAKING_ID.clear()
        found = _TAKING_ID[key] = stmt.compile(dialect=conn.dialect).string
    return found


def _show_all(record: dict[str, Any]) -> dict[str, Any]:
    """The visible part of a record when nothing is hidden from the user: all of it."""
    return record


def _warned(record: dict[str, Any], warnings: list[dict[str, Any]]) -> dict[str, Any]:
    """The record with the rules' warnings under ``_warnings`` (no field key starts with ``_``)."""
    if warnings:
        record["_warnings"] = warnings
    return record


def _audit_view(model: Any, record: dict[str, Any]) -> dict[str, Any]:
    """The fields an audit entry shows: active fields plus owner and team."""
    return model.codec.audit_view(record)

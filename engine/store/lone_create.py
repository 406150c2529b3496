"""A lone create on PostgreSQL as one statement in autocommit.

An API create of a plain record (no rules, flows, webhooks, lookups,
autonumbers, files or child rows act on its entity) writes three rows: the
record, its audit row and its entity's data-version bump. In a transaction
that is BEGIN, the INSERT (with the audit row in the same ``WITH``) and the
bump sent with the COMMIT: three round trips, and the data-version row stays
locked while the answer of the INSERT travels back to Python and the thread
waits for the GIL before the bump goes out. Here the three writes are one
statement run in autocommit::

    WITH created AS (INSERT INTO t_x (id, ...) VALUES (nextval(seq), ...) RETURNING id),
         audited AS (INSERT INTO ts_audit ... SELECT ..., created.id FROM created
                     RETURNING record_id),
         bumped AS (INSERT INTO ts_data_version ... ON CONFLICT (entity) DO UPDATE ...)
    SELECT audited.record_id FROM audited

PostgreSQL runs every data-modifying ``WITH`` part to completion and the
statement is its own transaction, so the rows written are exactly the general
path's, all or none; a unique or reference violation fails the whole
statement and is reported by the service as on the general path. The version
row is locked for the server's own work only.

Whether an entity qualifies is asked per create (:func:`applies`): the
conditions are the live state of the platform, worked out once per entity
version and kept until the webhooks or flows change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from engine.store import audit
from engine.store.bulk import prepared_insert, taking_id_cte
from engine.store.fixed import execute_driver
from engine.store.versions import bump_or_create

#: (dialect, prepared INSERT's SQL) → the one statement's SQL
_ONE: dict[tuple[str, str], str] = {}

#: where :func:`applies` keeps its answer in ``LiveEntity.statements``
_KEY = "lone_create"


def applies(service: Any) -> bool:
    """Whether a lone create of ``service``'s entity may run as one autocommit statement.

    PostgreSQL through psycopg (named parameters), no transaction already open
    here (the create must join it), and what :func:`_qualifies` says of the
    entity. That answer walks the entity's fields, so it is kept with the live
    entity (rebuilt on every metadata change: fields, rule sets, flows) beside
    the webhook index and flow triggers it was read from, and read again when
    either was rebuilt (a webhook subscription changes the index only). Whether
    rules act on a creation is asked every time.
    """
    p = service.platform
    db = p.db
    if db.engine.dialect.driver != "psycopg" or db.in_transaction():
        return False
    webhooks, flows = p.webhook_index(), p.flow_triggers()
    kept = service.live.statements.get(_KEY)
    if kept is not None and kept[0] is webhooks and kept[1] is flows:
        answer = kept[2]
    else:
        answer = _qualifies(service, webhooks, flows)
        service.live.statements[_KEY] = (webhooks, flows, answer)
    # The rules are asked on every create (a lookup in the live rules): a kept answer
    # worked out while a metadata change was half applied (a new entity version, the
    # old rules) must not let creates skip rules that went live since.
    return answer and not p.save_hook.reads_new_ids(service.entity)


def _qualifies(service: Any, webhooks: dict[Any, Any], flows: dict[Any, Any]) -> bool:
    """Nothing acts on a new record of ``service``'s entity besides its audit row and data
    version: the conditions of taking the id in the INSERT (no rules, child rows or
    files), plus no autonumbers, lookups, webhooks or flows on a creation."""
    if not service.takes_id_in_insert(service.platform.db.engine.dialect):
        return False
    from engine.store.lookups import lookups_of

    model = service.model
    if lookups_of(model):
        return False
    if any(f.type.name == "autonumber" for f in model.active_fields()):
        return False
    key = (service.entity, "created")
    return not webhooks.get(key) and key not in flows


def create(service: Any, record: dict[str, Any], now: Any) -> None:
    """Write ``record`` (system fields set, id None), its audit row and the data-version
    bump in one statement; sets the record's id. Raises as the general path does."""
    columns = service.model.codec.insert_columns
    with service.platform.db.autocommit() as conn:
        prepared = prepared_insert(
            conn, service.live.table, [c for c, _ in columns], [k for _, k in columns]
        )
        params = prepared.rows([record])[0]
        _sql, entry_params = audit.created_entry(
            conn, service.entity, service.user, now, record, service.model.codec.audit_created
        )
        sql = statement(conn, service.live.table, prepared)
        try:
            cursor = execute_driver(
                conn, sql, {**params, **entry_params, "dv_entity": service.entity}
            )
        except IntegrityError as exc:
            raise service._integrity_error(exc, conn, [record]) from None
        record["id"] = int(cursor.fetchone()[0])


def statement(conn: Connection, table: Any, prepared: Any) -> str:
    """The one statement's SQL for ``prepared``'s INSERT, compiled once per table and columns.

    Bound names: ``prepared``'s (``p_<i>``, the id's left unused), the audit row's
    (``audit_<column>``, see :func:`engine.store.audit.created_entry`) and
    ``dv_entity``.
    """
    key = (conn.dialect.name, prepared.sql)
    found = _ONE.get(key)
    if found is None:
        from engine.store.system import audit_log

        created = taking_id_cte(table, prepared)
        audited = (
            audit.created_entry_of(created.c.id).returning(audit_log.c.record_id).cte("audited")
        )
        bumped = bump_or_create(bindparam("dv_entity")).cte("bumped")
        stmt = select(audited.c.record_id).add_cte(bumped)
        if len(_ONE) > 500:
            _ONE.clear()
        found = _ONE[key] = stmt.compile(dialect=conn.dialect).string
    return found


__all__ = ["applies", "create", "statement"]

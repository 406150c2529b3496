"""Schema evolution: compare two definitions of an entity, plan the change, check rows, apply.

The plan is data (a list of steps a person can read) and changes nothing.
Additive steps (new table, new column, new index, a wider type) apply online.
Removing a field is a soft removal: the column and its data stay, the field is
hidden and can come back. A rename (``x-renamed-from``) keeps the column, since
physical names never follow keys or labels. A narrowing change (shorter text,
fewer options, tighter bounds, a new required field, a new unique constraint)
first checks the rows already stored and is refused, naming up to 20 of them.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Column, MetaData, Table, and_, func, insert, or_, select
from sqlalchemy.engine import Connection

from engine.errors import error_entry
from engine.forms.entity import MAX_FIELDS, EntityModel, Field, build_model
from engine.i18n import t
from engine.store.schema import build_child_table, build_tables, field_column, index_name
from engine.store.system import physical_fields
from engine.store.types import IdType

MAX_NAMED_ROWS = 20


@dataclass
class Step:
    action: str  # create_table, add_column, add_index, drop_index, widen, narrow, remove, restore, rename, metadata
    entity: str
    field: str | None = None
    detail: str = ""
    ddl: bool = True
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    def describe(self) -> str:
        where = f"{self.entity}.{self.field}" if self.field else self.entity
        return f"{self.action:<12} {where}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Plan:
    entity: str
    old: EntityModel | None
    new: EntityModel
    steps: list[Step]

    @property
    def changes_tables(self) -> bool:
        return any(s.ddl for s in self.steps)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [
            {
                "action": s.action,
                "entity": s.entity,
                "field": s.field,
                "detail": s.detail,
                "ddl": s.ddl,
            }
            for s in self.steps
        ]


def carry_removed(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """``new`` with the fields it dropped kept as ``x-removed`` (soft removal).

    The column and its data stay, so the definition keeps saying what the
    column holds; adding the key back restores the field with its data.
    """
    if old is None:
        return new
    out = copy.deepcopy(new)
    _carry(old.get("schema", {}), out.setdefault("schema", {}))
    return out


def _carry(old_schema: dict[str, Any], new_schema: dict[str, Any]) -> None:
    old_props = old_schema.get("properties") or {}
    new_props = new_schema.setdefault("properties", {})
    renamed = {p.get("x-renamed-from") for p in new_props.values() if isinstance(p, dict)}
    for key, prop in old_props.items():
        if key in new_props:
            old_items, new_items = prop.get("items"), new_props[key].get("items")
            # only child tables (items with properties) carry removed sub-fields;
            # a multi-select's items must not gain an empty "properties"
            if (
                isinstance(old_items, dict)
                and isinstance(new_items, dict)
                and "properties" in old_items
            ):
                _carry(old_items, new_items)
        elif key not in renamed:
            new_props[key] = {**prop, "x-removed": True}


def plan_entity(
    old: EntityModel | None, new_definition: dict[str, Any], physical: dict[str, dict[str, Any]]
) -> Plan:
    """The steps that take the live table from ``old`` to ``new_definition``.

    Fields the new definition leaves out are carried as removed (see
    ``carry_removed``); ``plan.new.definition`` is what gets stored.
    """
    new_definition = carry_removed(old.definition if old else None, new_definition)
    name = new_definition["name"]
    phys = dict(physical)
    new_props = new_definition.get("schema", {}).get("properties", {})
    steps: list[Step] = []
    # Renames first: the new key inherits the old key's physical column.
    for key, prop in new_props.items():
        src = prop.get("x-renamed-from")
        if src and key not in phys and src in phys:
            phys[key] = phys.pop(src)
            for k in [k for k in phys if k.startswith(src + ".")]:
                phys[key + k[len(src) :]] = phys.pop(k)
            steps.append(
                Step(
                    "rename",
                    name,
                    key,
                    t("from {src} (column kept)", src=src),
                    ddl=False,
                    data={"from": src},
                )
            )
    new = build_model(new_definition, phys)
    if old is None:
        steps.append(Step("create_table", name, None, new.table_name))
        return Plan(name, None, new, steps)
    _diff_fields(old, new, steps, name)
    if old.definition.get("label") != new.definition.get("label") or old.definition.get(
        "layout"
    ) != new.definition.get("layout"):
        steps.append(
            Step("metadata", name, None, t("labels or layout (no table change)"), ddl=False)
        )
    return Plan(name, old, new, steps)


def _diff_fields(old: EntityModel, new: EntityModel, steps: list[Step], name: str) -> None:
    def add(step: Step) -> None:
        step.data.setdefault("model", new)
        step.data.setdefault("key", step.field)
        steps.append(step)

    renamed = {s.data["from"]: s.field for s in steps if s.action == "rename"}
    for key, nf in new.fields.items():
        of = old.fields.get(key) or old.fields.get(
            next((o for o, n in renamed.items() if n == key), ""), None
        )
        where = f"{name}.{key}" if old.parent is None else f"{old.name}.{key}"
        if of is None:
            if nf.child is not None:
                add(
                    Step(
                        "create_table",
                        where,
                        None,
                        f"child table {nf.child.table_name}",
                        data={"table_of": nf},
                    )
                )
            elif nf.stored:
                add(
                    Step(
                        "add_column",
                        name,
                        key,
                        f"{nf.type.name} column {nf.column}",
                        data={"model": new},
                    )
                )
                if nf.required:
                    add(
                        Step(
                            "narrow",
                            name,
                            key,
                            t("new required field"),
                            ddl=False,
                            data={"check": "required"},
                        )
                    )
            continue
        if nf.removed and not of.removed:
            add(Step("remove", name, key, t("hidden; column and data kept"), ddl=False))
            continue
        if of.removed and not nf.removed:
            add(Step("restore", name, key, "visible again", ddl=False))
        if of.child is not None and nf.child is not None:
            _diff_fields(of.child, nf.child, steps, f"{name}.{key}")
            continue
        if of.type.name != nf.type.name and not _compatible(of, nf):
            add(
                Step(
                    "refuse",
                    name,
                    key,
                    t(
                        "changing {name} to {name2} is not supported; add a new field and copy the values",
                        name=of.type.name,
                        name2=nf.type.name,
                    ),
                    ddl=False,
                )
            )
            continue
        if of.stored and nf.stored:
            widened = nf.type.widens(of.prop, nf.prop)
            if widened is True:
                add(
                    Step(
                        "widen",
                        name,
                        key,
                        f"{of.type.column_type(of.prop)} → {nf.type.column_type(nf.prop)}",
                        data={"field": nf},
                    )
                )
            elif widened is False:
                add(
                    Step(
                        "narrow",
                        name,
                        key,
                        f"{of.type.column_type(of.prop)} → {nf.type.column_type(nf.prop)}",
                        data={"check": "type", "field": nf},
                    )
                )
        for check, detail in _narrowings(of, nf):
            add(Step("narrow", name, key, detail, ddl=False, data={"check": check, "field": nf}))
        if nf.stored and (nf.unique, nf.indexed) != (of.unique, of.indexed):
            if of.unique or of.indexed:
                add(Step("drop_index", name, key, "", data={"unique": of.unique}))
            if nf.unique or nf.indexed:
                add(
                    Step(
                        "add_index",
                        name,
                        key,
                        "unique" if nf.unique else "",
                        data={"unique": nf.unique},
                    )
                )
        if (of.prop.get("x-label"), of.prop.get("x-help")) != (
            nf.prop.get("x-label"),
            nf.prop.get("x-help"),
        ):
            add(Step("metadata", name, key, t("label or help (no table change)"), ddl=False))
    for key, of in old.fields.items():
        if key not in new.fields and key not in renamed and not of.removed:
            add(
                Step(
                    "remove",
                    name,
                    key,
                    t("dropped from the definition; column and data kept"),
                    ddl=False,
                )
            )


def _compatible(of: Field, nf: Field) -> bool:
    same_storage = {
        frozenset({"text", "long_text", "rich_text", "email", "phone", "url", "select", "user"}),
        frozenset({"decimal", "currency", "percent"}),
        frozenset({"multi_select", "tags"}),
    }
    if of.type.name in {"integer"} and nf.type.name in {"decimal", "currency", "percent"}:
        return True
    return any(of.type.name in g and nf.type.name in g for g in same_storage)


def _narrowings(of: Field, nf: Field) -> list[tuple[str, str]]:
    o, n = of.prop, nf.prop
    out = []
    if n.get("maxLength") is not None and (
        o.get("maxLength") is None or n["maxLength"] < o["maxLength"]
    ):
        out.append(("maxLength", t("at most {maxlength} characters", maxlength=n["maxLength"])))
    if "enum" in n and set(o.get("enum") or []) - set(n["enum"]):
        out.append(
            (
                "enum",
                f"options removed: {', '.join(map(str, sorted(set(o.get('enum') or []) - set(n['enum']))))}",
            )
        )
    for kw, cmp in (("minimum", "lt"), ("maximum", "gt")):
        if n.get(kw) is not None and (
            o.get(kw) is None or (n[kw] > o[kw] if cmp == "lt" else n[kw] < o[kw])
        ):
            out.append((kw, f"{kw} {n[kw]}"))
    if nf.required and not of.required:
        out.append(("required", "now required"))
    if nf.unique and not of.unique:
        out.append(("unique", "now unique"))
    return out


def offending_rows(conn: Connection, plan: Plan, live: Any) -> list[dict[str, Any]]:
    """Errors for stored rows the new definition would not accept (up to 20 record ids each).

    ``live`` is the entity as it is stored now (``None`` for a new entity). A
    child-table field names the parent records whose rows do not fit.
    """
    errors = []
    for step in plan.steps:
        if step.action == "refuse":
            errors.append(error_entry(step.detail, field=step.field))
            continue
        model: EntityModel = step.data.get("model", plan.new)
        key = step.data.get("key")
        if step.action != "narrow" or live is None or key not in model.fields:
            continue
        f = model.fields[key]
        if model.parent is None:
            live_table = live.table
            id_col = live_table.c.id
        else:
            live_table = live.child_tables.get(model.name.split(".", 1)[1])
            if live_table is None:
                continue
            id_col = live_table.c.parent_id
        if not f.stored or f.column not in live_table.c:
            if (
                step.data.get("check") == "required"
                and conn.execute(select(func.count()).select_from(live_table)).scalar()
            ):
                ids = (
                    conn.execute(select(id_col).distinct().order_by(id_col).limit(MAX_NAMED_ROWS))
                    .scalars()
                    .all()
                )
                errors.append(
                    _rows_error(
                        f.key, t("is a new required field but records exist without a value"), ids
                    )
                )
            continue
        col = live_table.c[f.column]
        cond = _violation(step.data.get("check"), f, col)
        if cond is None:
            continue
        if step.data.get("check") == "unique":
            dup = select(col).group_by(col).having(func.count() > 1).where(col.is_not(None))
            cond = col.in_(dup)
        ids = (
            conn.execute(
                select(id_col).distinct().where(cond).order_by(id_col).limit(MAX_NAMED_ROWS)
            )
            .scalars()
            .all()
        )
        if ids:
            errors.append(_rows_error(f.key, f"cannot become {step.detail}", ids))
    return errors


def _violation(check: str | None, f: Field, col: Any) -> Any:
    p = f.prop
    if check == "maxLength":
        return func.length(col) > p["maxLength"]
    if check == "enum":
        return and_(col.is_not(None), col.not_in(list(p["enum"])))
    if check == "minimum":
        return col < p["minimum"]
    if check == "maximum":
        return col > p["maximum"]
    if check == "required":
        return col.is_(None)
    if check == "unique":
        return col.is_not(None)
    if check == "type":
        return or_(False)  # covered by the specific checks above
    return None


def _rows_error(key: str, message: str, ids: list[int]) -> dict[str, Any]:
    shown = ", ".join(map(str, ids[:MAX_NAMED_ROWS]))
    return error_entry(f"{key} {message}: records {shown}", field=key, ids=list(ids))


def check_field_cap(model: EntityModel) -> list[dict[str, Any]]:
    count = len(model.fields)
    if count > MAX_FIELDS:
        return [
            error_entry(
                t(
                    "{name} has {count} fields; the limit is {max_fields}",
                    name=model.name,
                    count=count,
                    max_fields=MAX_FIELDS,
                ),
                field="schema.properties",
            )
        ]
    return []


def apply_plans(conn: Connection, plans: list[Plan], ids: Any, live_tables: dict[str, Any]) -> None:
    """Run the plans' DDL in the caller's transaction and record the physical names.

    New entities are created together in one metadata, so references between
    them (and cycles, through ``use_alter``) resolve; tables that already exist
    stand in as stubs that are never created.
    """
    scratch = MetaData()
    created = []
    for plan in plans:
        if plan.old is None:
            created += build_tables(plan.new, scratch)
    for plan in plans:
        for step in plan.steps:
            if step.action == "create_table" and plan.old is not None:
                f = step.data["table_of"]
                created.append(build_child_table(step.data["model"], f.child, scratch))
    _add_stubs(scratch)
    if created:
        scratch.create_all(conn, tables=created)
        for table in created:
            ids.create(conn, table.name)
    for plan in plans:
        if plan.old is not None:
            _alter(conn, plan, live_tables.get(plan.entity))
        _record_physical(conn, plan.new)


def _add_stubs(metadata: MetaData) -> None:
    """Stand-ins for referenced tables outside ``metadata`` so foreign keys compile."""
    for table in list(metadata.tables.values()):
        for fk in table.foreign_keys:
            target = fk.target_fullname.split(".")[0]
            if target not in metadata.tables:
                Table(target, metadata, Column("id", IdType, primary_key=True))


def _alter(conn: Connection, plan: Plan, live_table: Any) -> None:
    ops = Operations(MigrationContext.configure(conn))
    for step in plan.steps:
        model: EntityModel = step.data.get("model", plan.new)
        f = model.fields.get(step.data.get("key") or "") if step.field else None
        if step.action == "add_column" and f is not None:
            _add_column(conn, ops, model, field_column(model, f))
            if f.unique or f.indexed:
                ops.create_index(
                    index_name(model.table_name, f.column, f.unique),
                    model.table_name,
                    [f.column],
                    unique=f.unique,
                )
        elif step.action == "add_index" and f is not None:
            ops.create_index(
                index_name(model.table_name, f.column, f.unique),
                model.table_name,
                [f.column],
                unique=f.unique,
            )
        elif step.action == "drop_index" and f is not None:
            ops.drop_index(
                index_name(model.table_name, f.column, step.data["unique"]),
                table_name=model.table_name,
            )
        elif (
            step.action in ("widen", "narrow")
            and f is not None
            and f.stored
            # SQLite's type affinity ignores lengths and precision: nothing to alter there.
            and conn.dialect.name != "sqlite"
            and step.data.get("check") in (None, "type", "maxLength")
        ):
            ops.alter_column(model.table_name, f.column, type_=f.type.column_type(f.prop))


def _add_column(conn: Connection, ops: Operations, model: EntityModel, column: Column) -> None:
    """Add one column; on SQLite a reference goes inline, since SQLite cannot add constraints."""
    if conn.dialect.name != "sqlite" or not column.foreign_keys:
        ops.add_column(model.table_name, column)
        return
    prep = conn.dialect.identifier_preparer
    fk = next(iter(column.foreign_keys))
    target, target_col = fk.target_fullname.split(".")
    col_type = column.type.compile(dialect=conn.dialect)
    conn.exec_driver_sql(
        f"ALTER TABLE {prep.quote(model.table_name)} ADD COLUMN {prep.quote(column.name)} "
        f"{col_type} REFERENCES {prep.quote(target)} ({prep.quote(target_col)})"
    )


def _record_physical(conn: Connection, model: EntityModel) -> None:
    """Write the model's physical names to ``ts_field`` (child fields as ``items.qty``)."""

    def row(key: str, column: str | None, table: str, removed: bool) -> dict[str, Any]:
        return {"entity": model.name, "key": key, "column_name": column or "",
                "table_name": table, "removed": removed}  # fmt: skip

    conn.execute(physical_fields.delete().where(physical_fields.c.entity == model.name))
    rows = []
    for f in model.fields.values():
        if f.child is not None:
            rows.append(row(f.key, None, f.child.table_name, f.removed))
            rows += [
                row(f"{f.key}.{c.key}", c.column, f.child.table_name, c.removed)
                for c in f.child.fields.values()
            ]
        elif f.column:
            rows.append(row(f.key, f.column, model.table_name, f.removed))
    if rows:
        conn.execute(insert(physical_fields), rows)

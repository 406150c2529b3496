"""Entity models to SQLAlchemy tables: typed columns, child tables, keys and indexes."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, String, Table
from sqlalchemy.types import TypeEngine

from engine.forms.entity import EntityModel, Field, physical_name, table_name_for
from engine.store.types import IdType, UTCDateTime


def system_columns() -> list[Column]:
    return [
        Column("id", IdType, primary_key=True, autoincrement=False),
        Column("owner", String(64), index=False),
        Column("team", String(64), index=False),
        Column("created_by", String(64)),
        Column("created_on", UTCDateTime, nullable=False),
        Column("modified_by", String(64)),
        Column("modified_on", UTCDateTime, nullable=False),
        Column("version", Integer, nullable=False, default=1),
    ]


def index_name(table: str, column: str, unique: bool = False) -> str:
    return physical_name(("ux_" if unique else "ix_") + table, column)


def fk_name(table: str, column: str) -> str:
    return physical_name("fk_" + table, column)


def field_column(model: EntityModel, f: Field) -> Column:
    """The column of one stored field (references carry their foreign key)."""
    col_type: TypeEngine = f.type.column_type(f.prop)
    args = []
    if f.ref:
        args.append(
            ForeignKey(
                f"{table_name_for(f.ref)}.id",
                name=fk_name(model.table_name, f.column or f.key),
                use_alter=True,
            )
        )
    return Column(f.column or f.key, col_type, *args, nullable=True)


def field_indexes(model: EntityModel, f: Field, table: Table) -> list[Index]:
    col = table.c[f.column or f.key]
    out = []
    if f.unique:
        out.append(Index(index_name(model.table_name, col.name, True), col, unique=True))
    elif f.indexed:
        out.append(Index(index_name(model.table_name, col.name), col))
    return out


def build_tables(model: EntityModel, metadata: MetaData) -> list[Table]:
    """Add the entity's table and its child tables to ``metadata``; return them."""
    columns = system_columns()
    stored = model.stored_fields()
    columns += [field_column(model, f) for f in stored]
    table = Table(model.table_name, metadata, *columns)
    Index(index_name(model.table_name, "owner"), table.c.owner)
    Index(index_name(model.table_name, "team"), table.c.team)
    for f in stored:
        field_indexes(model, f, table)
    tables = [table]
    for f in model.fields.values():
        if f.child is not None:
            tables.append(build_child_table(model, f.child, metadata))
    return tables


def build_child_table(parent: EntityModel, child: EntityModel, metadata: MetaData) -> Table:
    stored = child.stored_fields()
    table = Table(
        child.table_name,
        metadata,
        Column("id", IdType, primary_key=True, autoincrement=False),
        Column(
            "parent_id",
            IdType,
            ForeignKey(
                f"{parent.table_name}.id",
                ondelete="CASCADE",
                name=fk_name(child.table_name, "parent_id"),
            ),
            nullable=False,
        ),
        Column("idx", Integer, nullable=False),
        *[field_column(child, f) for f in stored],
    )
    Index(index_name(child.table_name, "parent_id"), table.c.parent_id)
    for f in stored:
        field_indexes(child, f, table)
    return table

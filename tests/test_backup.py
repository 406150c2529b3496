"""Backup and restore: SQLite -> the test database (PostgreSQL in CI) -> SQLite, every row identical."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from engine import ConflictError, Platform, ValidationError
from engine.store.backup import _entity_tables, _system_tables, backup, restore
from tests.floor_defs import ACCOUNT, CONTACT, save
from tests.flows.defs import APPROVAL, DEAL


def _normal(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, float):
        return str(Decimal(repr(value)).normalize())
    if isinstance(value, bool):
        return int(value)
    return value


def snapshot(p: Platform) -> dict[str, list[tuple]]:
    """Every row of every table, normalised across dialects, in id order."""
    out = {}
    with p.db.transaction(write=False) as conn:
        for table in [*_system_tables(), *_entity_tables(p)]:
            rows = conn.execute(select(table)).all()
            if table.name == "ts_counter":  # id sources differ by dialect (sequences vs counters)
                rows = [r for r in rows if not r[0].startswith("id:")]
            out[table.name] = sorted((tuple(_normal(v) for v in row) for row in rows), key=repr)
    return out


@pytest.fixture
def source(tmp_path):
    p = Platform(f"sqlite:///{tmp_path / 'source.db'}")
    save(p, ACCOUNT, CONTACT, DEAL)
    p.users.add("ann", password="ann-secret-1", roles=["admin"], team="east")
    p.users.create_token("ann", label="laptop")
    accounts = p.records("account", "ann")
    acme = accounts.create({"name": "北京科技有限公司", "industry": "tech", "revenue": "1234.56"})
    p.records("contact", "ann").create(
        {"full_name": "Li Lei", "email": "li@example.com", "account": acme["id"],
         "birthday": "1990-02-28", "phones": [{"kind": "mobile", "number": "+86 138"}]}
    )  # fmt: skip
    accounts.update(acme["id"], {"industry": "retail"})
    p.flows.publish(APPROVAL)
    deal = p.records("deal").create({"title": "Big", "amount": 900000})
    p.flows.start("deal_approval", record=("deal", deal["id"]), user="ann")
    yield p
    p.close()


def test_a_backup_restores_across_databases_identically(source, db_url, tmp_path):
    first = tmp_path / "first.zip"
    manifest = backup(source, first)
    assert manifest["members"]["entity/t_account.jsonl"]["rows"] == 1
    target = Platform(db_url)
    try:
        restore(target, first)
        assert snapshot(target) == snapshot(source)
        # the restored platform works: new ids do not collide, the flow goes on
        more = target.records("account").create({"name": "Second"})
        assert more["id"] > 1
        (task,) = target.flows.tasks(user="bob")
        target.flows.complete(task["id"], "approve", user="bob")
        assert target.users.authenticate("ann", "ann-secret-1") is not None
        second = tmp_path / "second.zip"
        backup(target, second)
    finally:
        target.close()
    back = Platform(f"sqlite:///{tmp_path / 'back.db'}")
    try:
        restore(back, second)
        again = Platform(db_url)
        try:
            assert snapshot(back) == snapshot(again)
        finally:
            again.close()
    finally:
        back.close()


def test_restore_refuses_a_non_empty_database_and_a_damaged_archive(source, tmp_path):
    archive = tmp_path / "b.zip"
    backup(source, archive)
    with pytest.raises(ConflictError, match="empty database"):
        restore(source, archive)
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "entity/t_account.jsonl":
                data = data.replace("北京".encode(), "上海".encode())
            dst.writestr(item, data)
    fresh = Platform(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        with pytest.raises(ValidationError, match="damaged"):
            restore(fresh, damaged)
        assert fresh.entities.names() == []
    finally:
        fresh.close()


def test_backup_and_restore_commands(source, tmp_path):
    from click.testing import CliRunner

    from engine.cli import main

    url = source.db.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    done = runner.invoke(main, ["backup", str(tmp_path / "c.zip"), "--db", url])
    assert done.exit_code == 0 and "tables" in done.output, done.output
    target = tmp_path / "t.db"
    done = runner.invoke(main, ["restore", str(tmp_path / "c.zip"), "--db", str(target)])
    assert done.exit_code == 0, done.output
    again = runner.invoke(main, ["restore", str(tmp_path / "c.zip"), "--db", str(target)])
    assert again.exit_code == 1 and "empty database" in again.output

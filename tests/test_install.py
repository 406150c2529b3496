"""Installing bundles: all or nothing, plans, upgrades that keep the customer's edits, export."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import inspect

from engine import BundleError, ValidationError
from engine.cli import main
from tests.floor_defs import ACCOUNT, CONTACT


def write_bundle(root: Path, version: str, *entities: dict, extra: dict | None = None) -> Path:
    """A bundle folder with ``entities`` (and ``extra`` relative path → text)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "bundle.yaml").write_text(
        yaml.safe_dump({"name": "sales", "version": version, "label": {"en": "Sales"}}),
        encoding="utf-8",
    )
    (root / "entities").mkdir(exist_ok=True)
    for old in (root / "entities").glob("*.yaml"):
        old.unlink()
    for e in entities:
        (root / "entities" / f"{e['name']}.yaml").write_text(
            yaml.safe_dump(e, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    for rel, text in (extra or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def tables(p) -> set[str]:
    with p.db.transaction(write=False) as conn:
        return set(inspect(conn).get_table_names())


def test_install_creates_tables_and_versions(platform, tmp_path):
    report = platform.install(write_bundle(tmp_path / "b", "1.0.0", ACCOUNT, CONTACT))
    assert report.applied
    assert {"t_account", "t_contact", "t_contact__phones"} <= tables(platform)
    assert platform.meta.get("entity", "contact")["version"] == 1
    assert platform.meta.get("app", "sales")["definition"]["version"] == "1.0.0"
    c = platform.records("contact").create({"full_name": "Li Lei"})
    assert c["code"].startswith("CON-")


def test_plan_changes_nothing(platform, tmp_path):
    report = platform.install(write_bundle(tmp_path / "b", "1.0.0", ACCOUNT), plan_only=True)
    assert not report.applied
    assert ("create_table", "account") in [(s["action"], s["entity"]) for s in report.steps]
    assert "t_account" not in tables(platform)
    assert platform.meta.names("entity") == []


def test_bad_file_installs_nothing(platform, tmp_path):
    bad = copy.deepcopy(CONTACT)
    bad["schema"]["properties"]["account"]["x-ref"] = "acount"
    root = write_bundle(tmp_path / "b", "1.0.0", ACCOUNT, bad)
    with pytest.raises(BundleError) as info:
        platform.install(root)
    entry = next(e for e in info.value.errors if "acount" in e["message"])
    assert entry["file"] == "entities/contact.yaml" and entry["line"] > 1
    assert "t_account" not in tables(platform)
    assert platform.meta.names("entity") == []


def test_failure_in_the_middle_rolls_everything_back(platform, tmp_path):
    platform.install(write_bundle(tmp_path / "b", "1.0.0", ACCOUNT, CONTACT))
    platform.records("account").create({"name": "x" * 90})
    # 1.1 adds a field to contact (fine) and narrows account.name (the stored row does not fit).
    contact2 = copy.deepcopy(CONTACT)
    contact2["schema"]["properties"]["nickname"] = {"type": "string"}
    account2 = copy.deepcopy(ACCOUNT)
    account2["schema"]["properties"]["name"]["maxLength"] = 50
    with pytest.raises(BundleError) as info:
        platform.install(write_bundle(tmp_path / "b", "1.1.0", account2, contact2))
    assert any(e.get("file") == "entities/account.yaml" for e in info.value.errors)
    with platform.db.transaction(write=False) as conn:
        cols = {c["name"] for c in inspect(conn).get_columns("t_contact")}
    assert "nickname" not in cols
    assert platform.meta.get("app", "sales")["definition"]["version"] == "1.0.0"
    assert platform.meta.get("entity", "contact")["version"] == 1


def test_bad_seed_row_undoes_the_install(platform, tmp_path):
    root = write_bundle(
        tmp_path / "b",
        "1.0.0",
        ACCOUNT,
        extra={
            "seed/account.yaml": yaml.safe_dump([{"name": "A"}, {"name": "B", "industry": "oil"}])
        },
    )
    with pytest.raises(ValidationError) as info:
        platform.install(root)
    assert info.value.errors[0]["field"] == "[1].industry"
    assert "t_account" not in tables(platform)


def test_upgrade_keeps_the_overlay_and_reports_conflicts(platform, tmp_path):
    platform.install(write_bundle(tmp_path / "b", "1.0.0", ACCOUNT))
    # The customer relabels a field and adds one of their own, in the browser.
    edited = platform.meta.get("entity", "account")["definition"]
    edited["schema"]["properties"]["name"]["x-label"] = {"en": "Customer", "zh-CN": "客户名称"}
    edited["schema"]["properties"]["vip_level"] = {"type": "integer"}
    platform.meta.save("entity", "account", edited, user="admin")
    # The vendor ships 1.1: a new field, and a different label for the same field.
    shipped = copy.deepcopy(ACCOUNT)
    shipped["schema"]["properties"]["name"]["x-label"] = {"en": "Account name", "zh-CN": "客户名"}
    shipped["schema"]["properties"]["website"] = {"type": "string", "format": "uri"}
    report = platform.install(write_bundle(tmp_path / "b", "1.1.0", shipped))
    live = platform.meta.get("entity", "account")
    props = live["definition"]["schema"]["properties"]
    assert props["name"]["x-label"]["en"] == "Customer"  # the customer's edit wins
    assert "vip_level" in props and "website" in props  # both additions arrive
    assert live["overlay"] is True
    assert [(c["name"], c["path"]) for c in report.conflicts] == [
        ("account", "schema.properties.name.x-label.en"),
        ("account", "schema.properties.name.x-label.zh-CN"),
    ]
    assert "conflicts (your edits were kept)" in report.summary()
    origins = [v["origin"] for v in platform.meta.versions("entity", "account")]
    assert origins == ["bundle", "edit", "bundle", "merge"]


def test_reinstalling_the_same_version_changes_nothing(platform, tmp_path):
    root = write_bundle(tmp_path / "b", "1.0.0", ACCOUNT, CONTACT)
    platform.install(root)
    report = platform.install(root)
    assert {i["action"] for i in report.items} == {"unchanged"}
    assert platform.meta.get("entity", "account")["version"] == 1


def test_export_round_trip_is_byte_stable(platform, tmp_path):
    platform.install(write_bundle(tmp_path / "b", "1.0.0", ACCOUNT, CONTACT))
    edited = platform.meta.get("entity", "contact")["definition"]
    edited["label"]["zh-CN"] = "联系人（客户）"
    platform.meta.save("entity", "contact", edited)
    first = platform.export_bundle(tmp_path / "out1")
    second = platform.export_bundle(tmp_path / "out2")
    rel1 = {p.relative_to(tmp_path / "out1"): p.read_bytes() for p in first}
    rel2 = {p.relative_to(tmp_path / "out2"): p.read_bytes() for p in second}
    assert rel1 == rel2
    text = (tmp_path / "out1" / "entities" / "contact.yaml").read_text(encoding="utf-8")
    assert "联系人（客户）" in text
    # The export installs cleanly on a fresh platform and gives the same definitions.
    from engine import Platform

    other = Platform(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        other.install(tmp_path / "out1")
        assert (
            other.meta.get("entity", "contact")["definition"]
            == platform.meta.get("entity", "contact")["definition"]
        )
    finally:
        other.close()


def test_cli_check_install_plan_export(db_url, tmp_path):
    root = write_bundle(tmp_path / "b", "1.0.0", ACCOUNT, CONTACT)
    runner = CliRunner()
    ok = runner.invoke(main, ["check", str(root)])
    assert ok.exit_code == 0, ok.output
    plan = runner.invoke(main, ["install", str(root), "--plan", "--db", db_url])
    assert plan.exit_code == 0 and "would install sales 1.0.0" in plan.output
    done = runner.invoke(main, ["install", str(root), "--db", db_url])
    assert done.exit_code == 0 and "installed sales 1.0.0" in done.output
    out = tmp_path / "export"
    exported = runner.invoke(main, ["export-bundle", str(out), "--db", db_url])
    assert exported.exit_code == 0 and (out / "entities" / "account.yaml").exists()


def test_cli_check_reports_file_line_column(tmp_path):
    root = write_bundle(tmp_path / "b", "1.0.0", ACCOUNT)
    (root / "entities" / "account.yaml").write_text(
        "name: account\nschema:\n  type: object\n  properties:\n    name: {type: string, maxLenght: 5}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check", str(root)])
    assert result.exit_code == 1
    assert "entities/account.yaml:5:" in result.output
    assert "maxLength" in result.output
    assert "^" in result.output


GOOD_RULES = """scoring account_score on account into revenue:
    +10 "Tech" when industry == "tech"
"""
BAD_RULES = """scoring account_score on account into revenue:
    +10 "Tech" when industy == "tech"
"""


def test_rules_files_are_type_checked_before_install(platform, tmp_path):
    root = write_bundle(tmp_path / "b", "1.0.0", ACCOUNT, extra={"rules/account.rules": BAD_RULES})
    with pytest.raises(BundleError) as info:
        platform.install(root)
    entry = next(e for e in info.value.errors if e["file"] == "rules/account.rules")
    assert entry["line"] == 2 and "industry" in entry["message"]
    assert "t_account" not in tables(platform)
    (root / "rules" / "account.rules").write_text(GOOD_RULES, encoding="utf-8")
    platform.install(root)
    assert platform.meta.get("rules", "account")["definition"]["text"] == GOOD_RULES


def test_rules_saved_through_the_api_are_checked(platform, tmp_path):
    platform.install(write_bundle(tmp_path / "b", "1.0.0", ACCOUNT))
    with pytest.raises(BundleError) as info:
        platform.meta.save("rules", "account", {"name": "account", "text": BAD_RULES})
    assert "industry" in str(info.value)
    platform.meta.save("rules", "account", {"name": "account", "text": GOOD_RULES})

"""`tessera demo --no-serve --size small` sets up a working CRM, and a second run reuses it."""

from __future__ import annotations

from click.testing import CliRunner

from engine.cli import main
from tests.crm.conftest import CRM


def test_demo_loads_data_as_the_users_and_a_second_run_reuses_the_database(db_url):
    args = ["demo", "--db", db_url, "--bundle", str(CRM), "--no-serve", "--size", "small"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "installed crm" in first.output
    assert "lead                   30 created" in first.output
    assert "refused" not in first.output
    for role, name in [("sales_rep", "wang_lei"), ("finance", "qian_hui"), ("admin", "admin")]:
        assert f"{name}-demo" in first.output and role in first.output

    from engine import Platform

    p = Platform(db_url)
    try:
        leads = p.records("lead").list(limit=None)
        assert len(leads) == 30
        # The rules acted: every lead is scored and graded, hot ones are owned by a rep.
        assert all(r["grade"] in ("hot", "warm", "cold") for r in leads)
        assert all(r["owner"] for r in leads if r["grade"] == "hot")
        assert {r["team"] for r in leads if r["grade"] == "warm"} <= {"nurture"}
        # Rows are scoped: a rep sees only their team's accounts.
        mine = p.records("account", user="wang_lei").list(limit=None)
        assert mine and {a["team"] for a in mine} == {"shanghai"}
        snapshot = sorted((r["id"], r["company"], r["score"]) for r in leads)
        # Every shipped report runs over the demo data, for the director and for a rep.
        for name in p.meta.names("report"):
            assert p.reports.run(name, user="zhou_qiang")["rows"], name
            p.reports.run(name, user="wang_lei")
        [won] = [r for r in [p.reports.run("sales_by_owner", user="wang_lei")]]
        assert {row["labels"][0] for row in won["rows"]} <= {"wang_lei", "chen_jie", "liu_yang"}
    finally:
        p.close()

    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert "database reused" in second.output
    p = Platform(db_url)
    try:
        again = sorted(
            (r["id"], r["company"], r["score"]) for r in p.records("lead").list(limit=None)
        )
        assert again == snapshot
    finally:
        p.close()

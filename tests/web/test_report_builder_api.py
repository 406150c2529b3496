"""The report builder's API over real HTTP: fields through references, checked and scoped previews.

Preview figures are compared with a plain SQL ``GROUP BY`` on the same tables,
so the test does not trust the report engine it exercises.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.floor_defs import save
from tests.rules.sql_defs import ACCOUNT, DEAL

PERMISSIONS = {
    "roles": {
        "sales_rep": {"label": "Sales rep"},
        "analyst": {"label": "Analyst", "customize": ["report"]},
    },
    "permissions": [
        {"role": "sales_rep", "entity": "deal", "create": True, "read": "own", "update": "own"},
        {"role": "sales_rep", "entity": "account", "read": "all"},
        {"role": "analyst", "entity": "deal", "create": True, "read": "own", "update": "own"},
        {"role": "analyst", "entity": "account", "read": "all"},
    ],
}

PIVOT = {
    "name": "draft",
    "label": "Draft",
    "type": "pivot",
    "source": "deal",
    "rows": ["region"],
    "columns": [{"field": "closes_on", "bucket": "quarter"}],
    "measures": [
        {"name": "amount", "agg": "sum", "field": "amount"},
        {"name": "deals", "agg": "count"},
        {"name": "avg_deal", "expr": "amount / deals"},
    ],
    "totals": {"rows": True, "columns": True},
}


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT, DEAL)
    platform.meta.save("permissions", "sales", PERMISSIONS)
    platform.users.add("root", password="root-secret", roles=["admin"])
    platform.users.add("ann", password="ann-secret-1", roles=["sales_rep"])
    platform.users.add("ida", password="ida-secret-1", roles=["analyst"])
    acme = platform.records("account").create({"name": "Acme", "industry": "tech"})["id"]
    rows = [
        ("east", "120.50", "2025-01-15", "ida"),
        ("east", "80", "2025-02-01", "root"),
        ("west", "200", "2025-04-20", "ida"),
        ("west", "15.25", "2025-07-03", "root"),
        (None, "9", "2025-05-05", "root"),
    ]
    for region, amount, day, owner in rows:
        platform.records("deal", owner).create(
            {
                "title": f"{region} {day}",
                "region": region,
                "amount": amount,
                "closes_on": day,
                "account": acme,
            }
        )
    return platform


def _sql_sum(p, owner: str | None = None) -> tuple[Decimal, int]:
    _model, table = p.rules.tables("deal")
    stmt = select(func.sum(table.c.amount), func.count())
    if owner is not None:
        stmt = stmt.where(table.c.owner == owner)
    with p.db.transaction(write=False) as conn:
        total, count = conn.execute(stmt).one()
    return Decimal(str(total)), count


def _sql_by_region(p) -> dict:
    _model, table = p.rules.tables("deal")
    stmt = select(table.c.region, func.sum(table.c.amount), func.count()).group_by(table.c.region)
    with p.db.transaction(write=False) as conn:
        return {r: (Decimal(str(s)), n) for r, s, n in conn.execute(stmt)}


def test_the_field_list_follows_references_and_types(p, client):
    client.login("root", "root-secret")
    status, answer, _ = client.get("/api/v1/reports/builder/fields/deal")
    assert status == 200
    by_path = {f["path"]: f for f in answer["fields"]}
    assert by_path["amount"]["kind"] == "number"
    assert by_path["closes_on"]["kind"] == "date"
    assert by_path["region"]["options"] == ["east", "west", "北方"]
    assert by_path["account"]["kind"] == "record" and by_path["account"]["entity"] == "account"
    assert by_path["account.industry"]["via"] == "account"  # one hop through the reference
    assert "items" not in by_path and "tags" not in by_path  # child tables and lists cannot group
    # system fields have no definition: the builder names them in both languages all the same
    assert by_path["owner"]["label"] == {"en": "Owner", "zh-CN": "负责人"}
    assert by_path["created_on"]["label"]["zh-CN"] == "创建时间"
    status, _a, _h = client.get("/api/v1/reports/builder/fields/nothing")
    assert status == 404


def test_a_preview_equals_a_plain_group_by(p, client):
    client.login("root", "root-secret")
    status, result, _ = client.post("/api/v1/reports/builder/preview", {"definition": PIVOT})
    assert status == 200, result
    total, count = _sql_sum(p)
    grand = result["totals"]["total"]
    assert Decimal(str(grand[0])) == total and grand[1] == count
    by_region = _sql_by_region(p)
    for row in result["rows"]:
        s, n = by_region[row["key"][0]]
        assert Decimal(str(row["total"][0])) == s and row["total"][1] == n
        assert Decimal(str(row["total"][2])).quantize(Decimal("0.01")) == (s / n).quantize(
            Decimal("0.01")
        )
    assert [c["key"][0] for c in result["columns"]][:3] == [
        "2025-01-01",
        "2025-04-01",
        "2025-07-01",
    ]
    assert result["preview"]["max_cells"] <= 500


def test_rows_can_be_sorted_by_a_measure(p, client):
    client.login("root", "root-secret")
    draft = {**PIVOT, "columns": [], "order_by": "-amount"}
    status, result, _ = client.post("/api/v1/reports/builder/preview", {"definition": draft})
    assert status == 200, result
    amounts = [Decimal(str(r["cells"][0][0])) for r in result["rows"]]
    assert amounts == sorted(amounts, reverse=True)
    draft["order_by"] = "nope"
    status, problem, _ = client.post("/api/v1/reports/builder/preview", {"definition": draft})
    assert status == 422 and problem["errors"][0]["field"] == "order_by"


def test_bad_drafts_are_refused_with_the_path_of_each_problem(p, client):
    client.login("root", "root-secret")
    draft = {
        **PIVOT,
        "rows": ["regoin"],
        "measures": [
            {"name": "deals", "agg": "count"},
            {"name": "titles", "agg": "sum", "field": "title"},
            {"name": "bad", "expr": "deals * nothing"},
        ],
    }
    status, problem, headers = client.post("/api/v1/reports/builder/preview", {"definition": draft})
    assert status == 422 and headers["Content-Type"] == "application/problem+json"
    found = {e["field"]: e["message"] for e in problem["errors"]}
    assert "did you mean 'region'" in found["rows[0]"]
    assert "sum adds numbers" in found["measures[1].field"] and "text" in found["measures[1].field"]
    assert "nothing" in found["measures[2].expr"]
    status, problem, _ = client.post("/api/v1/reports/builder/preview", {"definition": "x"})
    assert status == 422 and problem["errors"][0]["field"] == "definition"
    misshapen = {**PIVOT, "totals": "yes", "options": {"max_cells": "many"}}
    status, problem, _ = client.post("/api/v1/reports/builder/preview", {"definition": misshapen})
    assert status == 422 and [e["field"] for e in problem["errors"]] == ["totals"]


def test_a_rep_without_customize_may_not_use_the_builder(p, client):
    client.login("ann", "ann-secret-1")
    status, _a, _h = client.post("/api/v1/reports/builder/preview", {"definition": PIVOT})
    assert status == 403
    status, _a, _h = client.get("/api/v1/reports/builder/fields/deal")
    assert status == 403
    status, _a, _h = client.get("/build/reports/draft", headers={"Accept": "text/html"})
    assert status == 403


def test_a_preview_shows_only_the_rows_the_builder_may_read(p, client):
    client.login("ida", "ida-secret-1")
    status, result, _ = client.post("/api/v1/reports/builder/preview", {"definition": PIVOT})
    assert status == 200, result
    total, count = _sql_sum(p, owner="ida")
    assert Decimal(str(result["totals"]["total"][0])) == total and count == 2
    assert result["totals"]["total"][1] == count
    assert {r["key"][0] for r in result["rows"]} == {"east", "west"}


def test_the_builder_page_starts_from_the_saved_version(p, client):
    client.login("root", "root-secret")
    p.meta.save("report", "draft", PIVOT)
    status, html, _ = client.get("/build/reports/draft", headers={"Accept": "text/html"})
    assert status == 200
    page = html.decode()
    assert 'id="report-builder"' in page and "report_builder.js" in page
    assert '"version": 1' in page or '"version":1' in page

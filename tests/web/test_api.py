"""The REST API over real HTTP: sign-in, records with permissions, errors, CSRF, the contract."""

from __future__ import annotations

import pytest

from tests.floor_defs import ACCOUNT, CONTACT, save
from tests.test_security import PERMISSIONS


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT, CONTACT)
    platform.meta.save("permissions", "sales", PERMISSIONS)
    platform.users.add("root", password="root-secret", roles=["admin"])
    platform.users.add("ann", password="ann-secret-1", roles=["sales_rep"], team="east")
    platform.users.add("cat", password="cat-secret-1", roles=["sales_rep"], team="west")
    platform.users.add("mo", password="mo-secret-12", roles=["marketing"])
    return platform


def test_token_sign_in_and_record_round_trip(p, client):
    status, answer, _ = client.post("/api/v1/auth/token", {"username": "ann", "password": "nope"})
    assert status == 401 and answer["title"] == "Unauthorized"
    status, answer, _ = client.post(
        "/api/v1/auth/token", {"username": "ann", "password": "ann-secret-1"}
    )
    assert status == 201 and answer["token"].startswith("tsr_")
    client.token = answer["token"]
    status, created, headers = client.post(
        "/api/v1/records/account", {"name": "北京科技有限公司", "industry": "tech"}
    )
    assert status == 201 and created["owner"] == "ann" and headers["ETag"] == '"1"'
    rid = created["id"]
    status, got, _ = client.get(f"/api/v1/records/account/{rid}")
    assert status == 200 and got["name"] == "北京科技有限公司"
    status, updated, _ = client.patch(
        f"/api/v1/records/account/{rid}", {"industry": "retail"}, headers={"If-Match": '"1"'}
    )
    assert status == 200 and updated["version"] == 2
    status, stale, _ = client.patch(
        f"/api/v1/records/account/{rid}", {"industry": "tech"}, headers={"If-Match": '"1"'}
    )
    assert status == 409 and stale["errors"]
    status, page, _ = client.get("/api/v1/records/account?where=industry%20%3D%3D%20%22retail%22")
    assert status == 200 and page["total"] == 1 and page["total_is_exact"] is True


def test_errors_are_problem_documents_that_name_the_field(p, client):
    client.token = p.users.create_token("root")["token"]
    status, answer, headers = client.post("/api/v1/records/account", {"name": 5, "revenu": 1})
    assert status == 422 and headers["Content-Type"] == "application/problem+json"
    fields = {e["field"] for e in answer["errors"]}
    assert {"name", "revenu"} <= fields
    status, answer, _ = client.get("/api/v1/records/account?where=industy%20%3D%3D%201")
    assert status == 422 and "industry" in answer["errors"][0]["message"]
    status, answer, _ = client.get("/api/v1/records/nothing")
    assert status == 404
    status, answer, _ = client.get("/api/v1/records/account?limit=100000")
    assert status == 422 and answer["errors"][0]["field"] == "limit"
    status, _, _ = client.post("/api/v1/records/account", raw=b"x" * (11 * 1024 * 1024))
    assert status == 413


def test_a_rep_cannot_reach_another_teams_record_through_any_door(p, new_client):
    east, west = new_client(), new_client()
    assert east.login("ann", "ann-secret-1") == 200 and west.login("cat", "cat-secret-1") == 200
    status, mine, _ = east.post("/api/v1/records/account", {"name": "Ann's", "industry": "tech"})
    assert status == 201
    assert west.get(f"/api/v1/records/account/{mine['id']}")[0] == 404
    assert west.patch(f"/api/v1/records/account/{mine['id']}", {"industry": "x"})[0] == 404
    # cat may delete no account at all: refused before any lookup, so the answer says
    # nothing of the record either way
    assert west.delete(f"/api/v1/records/account/{mine['id']}")[0] == 403
    status, page, _ = west.get("/api/v1/records/account?where=true%20or%20true")
    assert status == 200 and page["items"] == []
    status, found, _ = west.post(
        "/api/v1/rules/matching", {"entity": "account", "condition": "true"}
    )
    assert found == {"count": 0, "sample": []}
    assert west.get("/api/v1/records/contact")[0] == 403  # no row for contact at all
    mo = new_client()
    mo.login("mo", "mo-secret-12")
    status, page, _ = mo.get("/api/v1/records/account")
    assert "revenue" not in page["items"][0]
    assert mo.get("/api/v1/records/account?order_by=revenue")[0] == 403


def test_cookie_sessions_need_the_csrf_token_for_writes(p, client):
    assert client.post("/api/v1/records/account", {"name": "x"})[0] == 401
    assert client.login("root", "root-secret") == 200
    token, client.csrf = client.csrf, None
    status, answer, _ = client.post("/api/v1/records/account", {"name": "forged"})
    assert status == 403 and "CSRF" in answer["detail"]
    client.csrf = "wrong"
    assert client.post("/api/v1/records/account", {"name": "forged"})[0] == 403
    client.csrf = token
    assert client.post("/api/v1/records/account", {"name": "real"})[0] == 201
    status, me, _ = client.get("/api/v1/auth/session")
    assert me["user"]["name"] == "root" and "password_hash" not in me["user"]


def test_revoked_and_expired_tokens_are_refused(p, client):
    issued = p.users.create_token("ann")
    client.token = issued["token"]
    assert client.get("/api/v1/records/account")[0] == 200
    p.users.revoke_token(issued["id"])
    assert client.get("/api/v1/records/account")[0] == 401


def test_values_come_back_as_data_never_as_markup(p, client):
    client.token = p.users.create_token("root")["token"]
    evil = "<script>alert(1)</script>"
    status, created, _ = client.post("/api/v1/records/account", {"name": evil})
    status, got, headers = client.get(f"/api/v1/records/account/{created['id']}")
    assert got["name"] == evil and headers["Content-Type"] == "application/json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, page, _ = client.post(
        "/login",
        raw=f"username={evil}&password=x".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 401 and b"<script>" not in page and b"&lt;script&gt;" in page


def test_openapi_describes_every_entity(p, client):
    status, doc, _ = client.get("/api/v1/openapi.json")
    assert status == 200 and doc["openapi"] == "3.1.0"
    assert "/api/v1/records/account" in doc["paths"]
    assert doc["components"]["schemas"]["account"]["properties"]["name"]["maxLength"] == 100


def test_reports_and_exports_over_http(p, client):
    client.token = p.users.create_token("ann")["token"]
    client.post("/api/v1/records/account", {"name": "A", "industry": "tech"})
    p.meta.save("report", "by_industry", {"name": "by_industry", "label": "By industry",
        "source": "account", "rows": ["industry"], "measures": [{"name": "n", "agg": "count"}]})  # fmt: skip
    status, result, _ = client.get("/api/v1/reports/by_industry")
    assert status == 200 and result["rows"][0]["key"] == ["tech"]
    status, data, headers = client.get("/api/v1/reports/by_industry/export?format=csv")
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    assert data.decode("utf-8-sig").splitlines()[0].startswith("industry")


def test_user_add_command(tmp_path):
    from click.testing import CliRunner

    from engine import Platform
    from engine.cli import main

    db = tmp_path / "t.db"
    runner = CliRunner()
    done = runner.invoke(
        main,
        ["user", "add", "zoe", "--role", "admin", "--team", "east", "--db", str(db)],
        input="zoe-secret-1\nzoe-secret-1\n",
    )
    assert done.exit_code == 0, done.output
    with Platform(f"sqlite:///{db}") as p:
        assert p.users.authenticate("zoe", "zoe-secret-1")["roles"] == ["admin"]
    again = runner.invoke(main, ["user", "add", "zoe", "--password", "x" * 9, "--db", str(db)])
    assert again.exit_code == 1 and "exists" in again.output


def test_exports_stream_only_what_the_user_may_export(p, client):
    import csv
    import io

    from openpyxl import load_workbook

    root = p.records("account", "root")
    for i in range(5):
        root.create({"name": f"Acme {i}", "industry": "tech", "revenue": str(i)})
    p.records("account", "cat").create({"name": "Cat's", "industry": "tech"})
    client.token = p.users.create_token("root")["token"]
    status, data, headers = client.get(
        "/api/v1/records/account/export?where=industry%20%3D%3D%20%22tech%22"
    )
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["id", "owner"] and len(rows) == 1 + 6
    status, data, _ = client.get("/api/v1/records/account/export?format=xlsx&lang=zh-CN")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.max_row == 7 and "名称" in [c.value for c in sheet[1]]
    # reps may read their team's accounts but have no export scope at all
    rep = client.__class__(client.base)
    rep.token = p.users.create_token("cat")["token"]
    status, answer, _ = rep.get("/api/v1/records/account/export")
    assert status == 403 and "export" in answer["detail"]
    # marketing may export nothing either, and never sees hidden revenue
    assert p.records("account", "mo").list()[0].get("revenue", "absent") == "absent"


def test_a_bad_export_filter_is_a_problem_not_a_broken_file(p, client):
    client.token = p.users.create_token("root")["token"]
    status, answer, _ = client.get("/api/v1/records/account/export?where=nme%20%3D%3D%201")
    assert status == 422 and "name" in answer["errors"][0]["message"]


def test_ids_beyond_64_bits_are_not_found(p, client):
    client.token = p.users.create_token("root")["token"]
    assert client.get(f"/api/v1/records/account/{2**64}")[0] == 404
    assert client.delete(f"/api/v1/records/account/{2**63}")[0] == 404


def test_the_api_documentation_page_lists_entities_and_fields(p, client):
    status, page, headers = client.get("/api/v1/docs")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    text = page.decode()
    assert "/api/v1/openapi.json" in text and 'id="account"' in text
    assert "<code>/api/v1/records/account/{id}</code>" in text and "maxLength: 100" in text

"""Dashboards built in the editor, over real HTTP on the CRM: global filters per widget,
masked widgets, row scope in figures and drill-down, sharing, home pages, stale saves."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import quote

import pytest

from tests.crm.test_http import signed_in

WON = {
    "name": "won_by_owner_quarter",
    "label": {"en": "Won by owner and quarter", "zh-CN": "按负责人与季度的成交"},
    "type": "pivot",
    "source": "opportunity",
    "filters": 'stage == "won"',
    "rows": ["owner"],
    "columns": [{"field": "closed_on", "bucket": "quarter"}],
    "measures": [{"name": "won", "agg": "sum", "field": "amount"}],
    "totals": {"rows": True, "columns": True},
}


def board(**extra):
    return {
        "name": "team_board",
        "label": {"en": "Team board", "zh-CN": "团队看板"},
        "filters": [
            {"name": "period", "type": "period", "field": "closed_on"},
            {"name": "owner", "type": "user", "field": "owner"},
        ],
        "widgets": [
            {
                "report": "won_by_owner_quarter",
                "chart": "table",
                "grid": {"x": 0, "y": 0, "w": 8, "h": 4},
            },
            {
                "number": "won_amount",
                "source": "opportunity",
                "agg": "sum",
                "field": "amount",
                "filters": 'stage == "won"',
                "compare": "previous_period",
                "grid": {"x": 8, "y": 0, "w": 4, "h": 2},
            },
            {
                "number": "leads",
                "source": "lead",
                "agg": "count",
                "grid": {"x": 8, "y": 2, "w": 4, "h": 2},
            },
            {
                "list": "recent_won",
                "source": "opportunity",
                "filters": 'stage == "won"',
                "columns": ["name", "amount"],
                "limit": 5,
                "grid": {"x": 0, "y": 4, "w": 12, "h": 3},
            },
        ],
        **extra,
    }


@pytest.fixture(scope="module")
def seeded(crm):
    """Won deals for two Shanghai reps and one in the north, in two quarters; a lead."""
    account = crm.records("account").create({"name": "Dashboard Test Co"})["id"]
    deals = [
        ("wang_lei", 100, "2026-02-10"),
        ("wang_lei", 50, "2026-05-05"),
        ("chen_jie", 30, "2026-05-20"),
        ("gao_yu", 70, "2026-05-21"),
        ("gao_yu", 999, None),  # open deal: not won
    ]
    for owner, amount, closed in deals:
        crm.records("opportunity").create(
            {
                "name": f"{owner} {amount}",
                "account": account,
                "stage": "won" if closed else "proposal",
                "amount": amount,
                **({"closed_on": closed} if closed else {}),
                "owner": owner,
            }
        )
    crm.records("lead").create({"company": "Lead Co", "owner": "wang_lei"})
    crm.meta.save("report", WON["name"], WON)
    crm.meta.save("dashboard", "team_board", board())
    return crm


def _run(client, values=None):
    query = f"?values={quote(json.dumps(values))}" if values else ""
    return client.get(f"/api/v1/dashboards/team_board{query}")


def test_a_global_filter_applies_only_to_widgets_whose_source_has_the_field(seeded, crm_server):
    admin = signed_in(crm_server, "zhou_qiang")  # the sales director sees every deal
    status, answer, _ = _run(admin, {"period": {"from": "2026-04-01", "to": "2026-06-30"}})
    assert status == 200, answer
    pivot, won, leads, listed = answer["widgets"]
    assert won["applied"] == ["period"] and leads["ignored"] == ["period"]
    assert Decimal(str(won["value"])) == 150  # 50 + 30 + 70 in Q2
    assert Decimal(str(won["previous"])) == 100  # Q1: the period of the same length before
    assert won["change"] == 50.0
    assert leads["value"] >= 1 and leads["applied"] == []
    assert listed["count"] == 3 and {r["name"] for r in listed["records"]} == {
        "wang_lei 50",
        "chen_jie 30",
        "gao_yu 70",
    }
    assert pivot["applied"] == ["period"]
    assert {r["key"][0] for r in pivot["result"]["rows"] if r["level"] == 1} == {
        "wang_lei",
        "chen_jie",
        "gao_yu",
    }


def test_figures_and_drill_down_stay_within_the_viewers_scope(seeded, crm_server):
    rep = signed_in(crm_server, "wang_lei")  # own and team (Shanghai) records
    status, answer, _ = _run(rep)
    assert status == 200
    won = answer["widgets"][1]
    visible = {r["id"] for r in seeded.records("opportunity", "wang_lei").list(limit=None)}
    everyone = seeded.reports.dashboard("team_board")["widgets"][1]["value"]
    assert Decimal(str(won["value"])) < Decimal(str(everyone))
    owners = {r["key"][0] for r in answer["widgets"][0]["result"]["rows"] if r["level"] == 1}
    assert "gao_yu" not in owners
    status, drill, _ = rep.get("/api/v1/dashboards/team_board/widgets/1/drill?key=[]")
    assert status == 200, drill
    ids = {r["id"] for r in drill["records"]}
    assert ids and ids <= visible and drill["count"] == len(ids)
    # a cell of the pivot: the rep's own Q2 deals
    key = quote(json.dumps(["wang_lei", "2026-04-01"]))
    period = quote(json.dumps({"period": {"from": "2026-04-01", "to": "2026-06-30"}}))
    status, cell, _ = rep.get(
        f"/api/v1/dashboards/team_board/widgets/0/drill?key={key}&values={period}"
    )
    assert status == 200, cell
    assert [r["name"] for r in cell["records"]] == ["wang_lei 50"]
    # gao_yu's cell from the same rep: nothing, the row scope holds in drill-down too
    key = quote(json.dumps(["gao_yu", "2026-04-01"]))
    status, cell, _ = rep.get(f"/api/v1/dashboards/team_board/widgets/0/drill?key={key}")
    assert status == 200 and cell["count"] == 0


def test_a_widget_the_viewer_may_not_read_is_masked(seeded, crm_server):
    marketer = signed_in(crm_server, "xu_jing")  # reads leads, not opportunities
    status, answer, _ = _run(marketer)
    assert status == 200, answer
    pivot, won, leads, listed = answer["widgets"]
    for masked in (pivot, won, listed):
        assert masked["denied"] is True
        assert not {"result", "value", "records", "previous"} & set(masked)
    assert "value" in leads
    status, _drill, _ = marketer.get("/api/v1/dashboards/team_board/widgets/1/drill?key=[]")
    assert status == 403


def test_a_dashboard_opens_only_for_the_roles_it_is_shared_with(seeded, crm_server):
    admin = signed_in(crm_server, "admin")
    status, found, _ = admin.get("/api/v1/meta/dashboard/team_board")
    shared = dict(found["definition"], share=["sales_manager"], home_for=["sales_manager"])
    status, saved, _ = admin.call(
        "PUT",
        "/api/v1/meta/dashboard/team_board",
        {"definition": shared, "version": found["version"]},
    )
    assert status == 200, saved
    try:
        rep = signed_in(crm_server, "wang_lei")
        assert _run(rep)[0] == 403
        status, _b, _h = rep.get("/api/v1/dashboards/team_board/widgets/1/drill?key=[]")
        assert status == 403
        manager = signed_in(crm_server, "li_na")
        assert _run(manager)[0] == 200
        # the home page of a sales manager is now this dashboard
        status, _b, _headers = manager.call("GET", "/", headers={"Accept": "text/html"})
        assert status == 200  # followed the redirect
        status, page, _h = manager.call(
            "GET", "/dashboards/team_board", headers={"Accept": "text/html"}
        )
        assert status == 200 and b"dashboard.js" in page
        status, page, _h = rep.call(
            "GET", "/dashboards/team_board", headers={"Accept": "text/html"}
        )
        assert status == 403
    finally:
        status, found, _ = admin.get("/api/v1/meta/dashboard/team_board")
        admin.call(
            "PUT",
            "/api/v1/meta/dashboard/team_board",
            {"definition": board(), "version": found["version"]},
        )


def test_home_for_a_role_redirects_its_home_page(seeded):
    from engine.reports.dashboard import home_dashboard

    assert home_dashboard(seeded, "li_na") is None
    seeded.meta.save("dashboard", "team_board", board(home_for=["sales_manager"]))
    try:
        assert home_dashboard(seeded, "li_na") == "team_board"
        assert home_dashboard(seeded, "wang_lei") is None
    finally:
        seeded.meta.save("dashboard", "team_board", board())


def test_a_stale_save_is_refused(seeded, crm_server):
    admin = signed_in(crm_server, "admin")
    status, found, _ = admin.get("/api/v1/meta/dashboard/team_board")
    # a change saved on the version read (an unchanged save keeps the version: not stale)
    changed = {**found["definition"], "label": "Team board (changed)"}
    first = {"definition": changed, "version": found["version"]}
    assert admin.call("PUT", "/api/v1/meta/dashboard/team_board", first)[0] == 200
    again = {"definition": found["definition"], "version": found["version"]}
    status, answer, _ = admin.call("PUT", "/api/v1/meta/dashboard/team_board", again)
    assert status == 409 and "reload" in json.dumps(answer)


def test_bad_widgets_are_refused_where_they_are(seeded, crm_server):
    admin = signed_in(crm_server, "admin")
    bad = dict(board(), name="bad_board")
    bad["widgets"][0] = {"report": "no_such_report", "grid": {"x": 10, "y": 0, "w": 4, "h": 0}}
    bad["widgets"][3]["columns"] = ["name", "colour"]
    bad["share"] = "sales_manager"
    status, answer, _ = admin.call("PUT", "/api/v1/meta/dashboard/bad_board", {"definition": bad})
    assert status == 422, answer
    found = {e["field"]: e["message"] for e in answer["errors"]}
    assert "not a report" in found["widgets[0].report"]
    assert "1 to 12" in found["widgets[0].grid.h"]
    assert "colour" in found["widgets[3].columns[1]"]
    assert "role names" in found["share"]
    wide = dict(board(), name="bad_board")
    wide["widgets"][1]["grid"] = {"x": 8, "y": 0, "w": 6, "h": 2}
    status, answer, _ = admin.call("PUT", "/api/v1/meta/dashboard/bad_board", {"definition": wide})
    assert status == 422 and answer["errors"][0]["field"] == "widgets[1].grid.w"


def test_the_editor_previews_a_draft_as_its_builder(seeded, crm_server):
    admin = signed_in(crm_server, "admin")
    draft = board()
    draft["widgets"].append({"report": "opportunity_funnel", "chart": "funnel"})
    status, answer, _ = admin.post(
        "/api/v1/dashboards/preview", {"definition": draft, "values": {}}
    )
    assert status == 200, answer
    assert answer["problems"] == []
    assert [v["kind"] for v in answer["views"]] == ["report", "number", "number", "list", "report"]
    assert answer["views"][4]["grid"] == {"x": 0, "y": 7, "w": 4, "h": 4}
    assert answer["widgets"][4]["result"]["type"] == "funnel"
    rep = signed_in(crm_server, "wang_lei")
    assert rep.post("/api/v1/dashboards/preview", {"definition": draft})[0] == 403
    status, page, _h = admin.call(
        "GET", "/build/dashboards/new_board", headers={"Accept": "text/html"}
    )
    assert status == 200 and b"dashboard_editor.js" in page
    assert rep.call("GET", "/build/dashboards/new_board", headers={"Accept": "text/html"})[0] == 403


LEADERS = {
    "name": "won_leaders",
    "label": {"en": "Won leaders", "zh-CN": "成交排行"},
    "type": "leaderboard",
    "source": "opportunity",
    "filters": 'stage == "won"',
    "by": "owner",
    "measure": {"agg": "sum", "field": "amount"},
    "limit": 50,
}


def test_funnel_stages_and_leaderboard_entries_drill_within_the_viewers_scope(seeded, crm_server):
    seeded.meta.save("report", LEADERS["name"], LEADERS)
    seeded.meta.save(
        "dashboard",
        "ranks_board",
        {
            "name": "ranks_board",
            "label": "Ranks",
            "filters": [{"name": "period", "type": "period", "field": "closed_on"}],
            "widgets": [
                {"report": "won_leaders", "grid": {"x": 0, "y": 0, "w": 6, "h": 4}},
                {"report": "opportunity_funnel", "grid": {"x": 6, "y": 0, "w": 6, "h": 4}},
            ],
        },
    )
    rep = signed_in(crm_server, "wang_lei")
    visible = {r["id"] for r in seeded.records("opportunity", "wang_lei").list(limit=None)}
    period = quote(json.dumps({"period": {"from": "2026-04-01", "to": "2026-06-30"}}))
    url = "/api/v1/dashboards/ranks_board/widgets"

    status, entry, _ = rep.get(
        f"{url}/0/drill?key={quote(json.dumps(['wang_lei']))}&values={period}"
    )
    assert status == 200, entry
    assert {r["name"] for r in entry["records"]} >= {"wang_lei 50"}
    assert all(r["owner"] == "wang_lei" and r["stage"] == "won" for r in entry["records"])
    status, other, _ = rep.get(f"{url}/0/drill?key={quote(json.dumps(['gao_yu']))}")
    assert status == 200 and other["count"] == 0  # another team's row: out of scope

    status, stage, _ = rep.get(f"{url}/1/drill?key={quote(json.dumps(['won']))}&values={period}")
    assert status == 200, stage
    names = {r["name"] for r in stage["records"]}
    assert {"wang_lei 50", "chen_jie 30"} <= names and "gao_yu 70" not in names
    assert {r["id"] for r in stage["records"]} <= visible
    status, bad, _ = rep.get(f"{url}/1/drill?key={quote(json.dumps(['won', 'lost']))}")
    assert status in (400, 422) and bad["errors"][0]["field"] == "key"

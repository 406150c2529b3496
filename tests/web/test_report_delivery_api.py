"""Background report runs and e-mail schedules over HTTP: CSRF, permissions, located errors."""

from __future__ import annotations

import pytest

from tests.reports.rtypes_data import seed

BY_STAGE = {
    "name": "by_stage",
    "label": "By stage",
    "source": "deal",
    "rows": ["stage"],
    "measures": [{"name": "n", "agg": "count"}],
}


@pytest.fixture
def p(platform):
    seed(platform)
    platform.meta.save("report", "by_stage", BY_STAGE)
    return platform


def test_a_background_run_over_http(p, client, new_client):
    assert client.login("ann", "ann-secret-1") == 200
    status, run, _ = client.post("/api/v1/reports/by_stage/background")
    assert status == 202 and run["status"] == "queued"
    status, seen, _ = client.get(f"/api/v1/report-runs/{run['id']}")
    assert status == 200 and seen["status"] == "queued"
    p.jobs.run_due()
    status, done, _ = client.get(f"/api/v1/report-runs/{run['id']}")
    assert done["status"] == "done" and done["result"]["totals"]["total"] == [5]
    bob = new_client()
    bob.login("bob", "bob-secret-1")
    assert bob.get(f"/api/v1/report-runs/{run['id']}")[0] == 403
    status, problem, _ = client.post("/api/v1/reports/by_stage/background?filters=nope%20%3E%201")
    assert status == 422 and "nope" in problem["detail"]


def test_writes_need_the_csrf_token(p, client):
    client.login("ann", "ann-secret-1")
    client.csrf = None
    assert client.post("/api/v1/reports/by_stage/background")[0] == 403
    assert client.post("/api/v1/reports/by_stage/schedules", {"every": "daily"})[0] == 403


def test_schedules_over_http(p, client, new_client):
    client.login("ann", "ann-secret-1")
    status, problem, _ = client.post(
        "/api/v1/reports/by_stage/schedules", {"every": "daily", "at": "8am", "format": "csv",
                                               "users": ["ann"]}
    )  # fmt: skip
    assert status == 422 and problem["errors"][0]["field"] == "at"
    status, made, _ = client.post(
        "/api/v1/reports/by_stage/schedules",
        {"every": "weekly", "weekday": 0, "at": "08:00", "format": "xlsx", "roles": ["rep"]},
    )
    assert status == 201 and made["roles"] == ["rep"] and made["owner"] == "ann"
    status, listed, _ = client.get("/api/v1/reports/by_stage/schedules")
    assert [s["id"] for s in listed["items"]] == [made["id"]]
    bob = new_client()
    bob.login("bob", "bob-secret-1")
    assert bob.get("/api/v1/reports/by_stage/schedules")[1]["items"] == []
    assert bob.delete(f"/api/v1/report-schedules/{made['id']}")[0] == 404
    assert client.delete(f"/api/v1/report-schedules/{made['id']}")[0] == 204
    assert client.get("/api/v1/reports/nothing/schedules")[0] == 404

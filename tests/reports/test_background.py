"""Slow reports: a statement time limit on each database, and the background run whose
result the worker stores for the viewer who asked."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import text

from engine.errors import NotFound, PermissionDenied
from engine.reports import background
from engine.reports.timeout import ReportTimeout
from tests.reports.rtypes_data import seed

BY_STAGE = {
    "name": "by_stage",
    "label": {"en": "Deals by stage", "zh-CN": "各阶段商机"},
    "source": "deal",
    "rows": ["stage"],
    "measures": [
        {"name": "n", "agg": "count"},
        {"name": "amount", "agg": "sum", "field": "amount"},
    ],
}


@pytest.fixture
def p(platform):
    seed(platform)
    platform.meta.save("report", "by_stage", BY_STAGE)
    return platform


def _slow_clause(dialect: str):
    """A condition that takes seconds to evaluate, standing in for a heavy report."""
    if dialect == "postgresql":
        return text("(SELECT count(*) FROM pg_sleep(3)) = 1")
    return text(
        "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000)"
        " SELECT count(*) FROM c) > 0"
    )


def test_a_report_over_its_time_limit_stops_with_a_clear_error(p, monkeypatch):
    service = p.reports
    where = service._where
    monkeypatch.setattr(service, "_where", lambda *a: [*where(*a), _slow_clause(p.db.dialect)])
    with pytest.raises(ReportTimeout) as err:
        service.run("by_stage", timeout=0.2)
    assert "by_stage" in err.value.message and "0.2 s" in err.value.message
    assert err.value.errors[0]["field"] == "timeout"
    monkeypatch.undo()
    # The connection is usable afterwards and the limit does not outlive the run.
    assert service.run("by_stage", timeout=5, cached=False)["totals"]["total"][0] == 11


def test_the_time_limit_comes_from_the_configuration(p, monkeypatch):
    monkeypatch.setenv("TESSERA_REPORT_TIMEOUT_SECONDS", "0")  # no limit
    assert p.reports.run("by_stage")["totals"]["total"][0] == 11


def test_a_background_run_stores_the_viewers_result(p):
    job = background.start(p, "by_stage", user="ann")
    assert job["status"] == "queued" and job["result"] is None
    assert background.status(p, job["id"], user="ann")["status"] == "queued"
    tick = p.jobs.run_due()
    assert tick.delivered >= 1
    done = background.status(p, job["id"], user="ann")
    assert done["status"] == "done" and done["finished_on"] is not None
    live = p.reports.run("by_stage", user="ann")["totals"]
    assert done["result"]["totals"] == orjson.loads(orjson.dumps(live, default=float))
    assert done["result"]["totals"]["total"][0] == 5  # ann's own deals only
    assert background.status(p, job["id"], user="root")["status"] == "done"  # an admin
    with pytest.raises(PermissionDenied):
        background.status(p, job["id"], user="bob")
    with pytest.raises(NotFound):
        background.status(p, job["id"] + 100, user="ann")
    p.jobs.run_due()  # delivered once: a second tick changes nothing
    assert background.status(p, job["id"], user="ann")["result"] == done["result"]


def test_a_failing_background_run_stores_its_error(p):
    job = background.start(p, "by_stage", user="ann", filters="amount > 100")
    with p.db.transaction() as conn:  # the report's filter no longer fits: it fails at run time
        conn.execute(
            background.report_results.update()
            .where(background.report_results.c.id == job["id"])
            .values(filters="no_such_field > 1")
        )
    p.jobs.run_due()
    failed = background.status(p, job["id"], user="ann")
    assert failed["status"] == "failed" and failed["result"] is None
    assert "no_such_field" in failed["error"]["message"]


def test_a_viewer_who_may_not_read_cannot_start_one(p):
    p.users.add("eve", password="eve-secret-1", roles=[])
    with pytest.raises(PermissionDenied):
        background.start(p, "by_stage", user="eve")

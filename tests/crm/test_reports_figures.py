"""CRM.md step 5: the funnel, forecast and RFM reports give the figures computed here.

Each test gets a CRM of its own (a fresh database and server): the reports add
up every record, so a test sharing its database with others would see their
deals and orders, and its figures would depend on which tests ran before it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import database_url
from tests.crm.conftest import CRM
from tests.crm.test_acceptance import tick
from tests.crm.test_http import signed_in


@pytest.fixture
def own_crm(tmp_path) -> Iterator[tuple[Any, str, Any]]:
    """(platform, server URL, clock) on a database of this test's own, clock frozen."""
    from engine import Platform
    from engine.demo import DemoReport, load_recipe, setup_people
    from web.app import create_app

    with database_url(tmp_path, "rfm") as url:
        p = Platform(url)
        try:
            p.install(CRM)
            setup_people(p, load_recipe(CRM), DemoReport())
            p.clock.set(dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC))
            app = create_app(p, config={"SECRET_KEY": "test-secret"})
            srv = make_server("127.0.0.1", 0, app, threaded=True)
            thread = threading.Thread(target=srv.serve_forever, daemon=True)
            thread.start()
            try:
                yield p, f"http://127.0.0.1:{srv.server_port}", p.clock
            finally:
                srv.shutdown()
                thread.join(5)
        finally:
            p.close()


def test_funnel_and_forecast_match_figures_computed_from_the_same_data(own_crm):
    crm, crm_server, clock = own_crm
    rep = signed_in(crm_server, "wang_lei")
    director = signed_in(crm_server, "zhou_qiang")
    _, buyer, _ = rep.post("/api/v1/records/account", {"name": "漏斗验收有限公司"})

    # Four deals and the stages they go through; the last stage is where each stays.
    deals = {
        "lost one": (100000, ["initial_contact", "needs_analysis", "proposal", "lost"]),
        "won one": (200000, ["initial_contact", "needs_analysis", "won"]),
        "open early": (50000, ["initial_contact", "needs_analysis"]),
        "open late": (300000, ["initial_contact", "proposal"]),
    }
    closes = {"open early": "2027-03-15", "open late": "2027-04-10"}
    for name, (amount, path) in deals.items():
        body = {"name": name, "account": buyer["id"], "stage": path[0], "amount": amount}
        if name in closes:
            body["expected_close"] = closes[name]
        status, opp, _ = rep.post("/api/v1/records/opportunity", body)
        assert status == 201, opp
        for stage in path[1:]:
            change: dict[str, Any] = {"stage": stage}
            if stage == "lost":
                change["lost_reason"] = "price"
            if stage == "won":
                change["closed_on"] = clock.now().date().isoformat()
            status, opp, _ = rep.patch(f"/api/v1/records/opportunity/{opp['id']}", change)
            assert status == 200, opp
    tick(crm)

    stages = ["initial_contact", "needs_analysis", "proposal", "negotiation", "won"]
    status, funnel, _ = director.get("/api/v1/reports/opportunity_funnel")
    assert status == 200, funnel
    got = {r["stage"]: r for r in funnel["rows"]}
    for k, stage in enumerate(stages):
        now_in = [n for n, (_a, path) in deals.items() if path[-1] == stage]
        # reached: the deal entered this stage or a later one of the funnel
        reached = [n for n, (_a, path) in deals.items()
                   if max(stages.index(s) for s in path if s in stages) >= k]  # fmt: skip
        assert got[stage]["count"] == len(now_in), stage
        assert float(got[stage]["amount"] or 0) == sum(deals[n][0] for n in now_in)
        assert got[stage]["reached"] == len(reached), stage
    assert float(got["initial_contact"]["conversion"]) == 100.0  # 4 of 4 reached needs analysis
    assert float(got["needs_analysis"]["conversion"]) == 75.0  # 3 of 4 reached proposal

    # Forecast: a stage's win rate is the share of closed deals that passed through it and won.
    status, forecast, _ = director.get("/api/v1/reports/sales_forecast")
    assert status == 200, forecast
    closed = {n: path for n, (_a, path) in deals.items() if path[-1] in ("won", "lost")}

    def rate(stage: str) -> float:
        passed = [n for n, path in closed.items() if stage in path[:-1]]
        return sum(closed[n][-1] == "won" for n in passed) / len(passed) if passed else 0.0

    expected: dict[str, float] = {}
    for name, month in (("open early", "2027-03"), ("open late", "2027-04")):
        amount, path = deals[name]
        expected[month] = expected.get(month, 0.0) + amount * rate(path[-1])
    months = {r["month"]: float(r["weighted"]) for r in forecast["rows"]}
    assert months == expected


def test_rfm_scores_and_segments_match_figures_computed_from_the_same_data(own_crm):
    crm, crm_server, clock = own_crm
    director = signed_in(crm_server, "zhou_qiang")
    # RFM: five customers, the k-th with k orders of k × 10,000, the latest k × 10 days ago
    # at most; with five customers each NTILE(5) score is the customer's rank.
    _, products, _ = director.get("/api/v1/records/product?limit=1")
    product = products["items"][0]["id"]
    today = clock.now().date()
    customers = {}
    for k in range(1, 6):
        _, acc, _ = director.post("/api/v1/records/account", {"name": f"RFM 客户 {k}"})
        customers[acc["id"]] = k
        for n in range(k):
            day = today - dt.timedelta(days=60 - 10 * k + n)
            line = {"product": product, "quantity": 1, "unit_price": 10000 * k}
            status, order, _ = director.post(
                "/api/v1/records/order",
                {"account": acc["id"], "order_date": day.isoformat(), "lines": [line]},
            )
            assert status == 201, order
    tick(crm)
    status, rfm, _ = director.get("/api/v1/reports/customer_rfm")
    assert status == 200, rfm

    def segment(r: int, f: int, m: int) -> str:  # the bundle's segments, in order
        if r >= 4 and f >= 4:
            return "champions"
        if f >= 4:
            return "loyal"
        if r <= 2 and f >= 3:
            return "at_risk"
        if r >= 4 and f <= 2:
            return "new"
        if r <= 2 and f <= 2:
            return "hibernating"
        return "other"

    for row in rfm["customers"]:
        k = customers[row["customer"]]
        assert (row["r"], row["f"], row["m"]) == (k, k, k)
        assert row["frequency"] == k and float(row["monetary"]) == k * k * 10000
        assert row["segment"] == segment(k, k, k)
    counts = {r["segment"]: r["customers"] for r in rfm["rows"]}
    for name in ("champions", "hibernating", "other"):
        assert counts[name] == sum(segment(k, k, k) == name for k in range(1, 6))
    # The orders stamped each account's last order date (the dormant segment reads it).
    for acc_id, k in customers.items():
        _, acc, _ = director.get(f"/api/v1/records/account/{acc_id}")
        assert acc["last_order_at"] == (today - dt.timedelta(days=60 - 10 * k)).isoformat()
        assert acc["lifecycle"] in ("customer", "repeat")

"""Stored lead scores follow time (QA: lead 1 stored 60 while the Why panel said 35).

Scoring reads ``days_since`` (an old price-list download, an idle month), so the
value changes with no edit. The bundle's daily ``lead_daily_rescore`` schedule saves
each open lead, which re-runs scoring, grading and routing; a lead that leaves an
owner for a queue says so in its status, never "assigned" without an owner.
"""

from __future__ import annotations

import datetime as dt

from engine.rules.schedules import execute_schedule


def test_the_daily_schedule_rescores_regrades_and_requeues_a_lead(crm):
    now = crm.clock.now()
    leads = crm.records("lead")
    made = leads.create(
        {
            "company": "上海衰减科技有限公司",
            "source": "referral",
            "region": "north_china",
            "industry": "finance",
            "company_size": 2000,
            "title": "CTO",
            "price_list_downloaded_at": (now - dt.timedelta(days=2)).isoformat(),
            "key_page_visits": 3,
            "last_activity_at": (now - dt.timedelta(days=1)).isoformat(),
        }
    )
    assert (made["score"], made["grade"]) == (90, "hot") and made["owner"] is not None
    try:
        # Forty days on: the download no longer counts (-15) and the lead is idle (-10).
        later = now + dt.timedelta(days=40)
        crm.clock.set(later)
        run = execute_schedule(crm, "lead_daily_rescore", later)  # as the job runner does
        assert made["id"] in run.claimed
    finally:
        crm.clock.set(None)
    lead = leads.get(made["id"])
    assert (lead["score"], lead["grade"]) == (65, "warm")
    assert lead["scored_at"] is not None
    # Routed to the nurture queue, so no owner, and the status says nurturing.
    assert lead["owner"] is None and lead["team"] == "nurture"
    assert lead["status"] == "nurturing"

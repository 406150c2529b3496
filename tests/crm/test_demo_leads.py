"""The medium demo's leads tell one story (QA report): a lead that is "assigned" has an
owner, and the first-contact SLA and escalation flags are only raised on owned leads."""

from __future__ import annotations

from tests.crm.test_demo import load


def test_no_medium_demo_lead_is_assigned_without_an_owner(db_url):
    from engine import Platform

    load(db_url, "medium")
    p = Platform(db_url)
    try:
        leads = p.records("lead").list(limit=None)
        orphans = [r["id"] for r in leads if r["status"] == "assigned" and not r["owner"]]
        assert orphans == []
        flagged = [
            r["id"] for r in leads if (r["sla_breached"] or r["escalated"]) and not r["owner"]
        ]
        assert flagged == []
    finally:
        p.close()

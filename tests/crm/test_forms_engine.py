"""Engine parts of the forms and record pages: the form script and the "why" of a record."""

from __future__ import annotations

import datetime as dt

from engine.forms.live_script import form_expressions, form_script


def test_the_why_of_a_lead_names_the_rules_that_scored_graded_and_routed_it(crm):
    now = crm.clock.now()
    lead = crm.records("lead").create(
        {
            "company": "上海云启科技有限公司",
            "source": "website",
            "region": "east_china",
            "industry": "it",
            "company_size": 600,
            "title": "技术总监",
            "price_list_downloaded_at": now - dt.timedelta(days=2),
            "key_page_visits": 4,
            "event_attended_at": now - dt.timedelta(days=5),
        }
    )
    stored = crm.records("lead").get(lead["id"])
    why = {w["ruleset"]: w for w in crm.rules.explain("lead", stored)}
    assert list(why) == ["lead_score", "lead_grade", "lead_routing"]
    score = why["lead_score"]
    assert score["value"] == stored["score"] == 85
    labels = [f["label"] for f in score["fired"]]
    assert "Website form" in labels and "Downloaded the price list" in labels
    assert "Referral" not in labels
    assert sum(f["value"] for f in score["fired"]) == 85
    assert why["lead_grade"]["value"] == "hot"
    routing = why["lead_routing"]
    assert [f["label"] for f in routing["fired"]] == ["East China to Shanghai"]
    assert routing["stamped"]["rule"] == routing["value"]["rule"]


def test_the_form_script_compiles_computed_fields_and_conditions(crm):
    exprs = form_expressions(crm.entities.get("opportunity").model)
    assert "lost_reason" in exprs["visible"] and "lost_reason" in exprs["required"]
    script = form_script(crm, "lead")
    assert "globalThis.TesseraRules" in script
    assert '(globalThis.TesseraForms = globalThis.TesseraForms || {})["lead"]' in script
    assert '["company_norm"]: (function (T)' in script
    assert 'preview: [\n    {ruleset: "lead_score", target: "score"' in script
    assert '{ruleset: "lead_grade", target: "grade"' in script
    # definition text never appears raw: every constant is an escaped JSON literal
    assert "</script" not in script.lower()
    # The browser's business-hours functions get the bundle's calendar (bundle.yaml), so a
    # due time shown live agrees with the server (tests/rules/test_business_calendar_js.py).
    assert '"timezone": "Asia/Shanghai"' in script and '"2026-10-10"' in script


def test_comments_need_read_access_and_text(crm):
    import pytest

    from engine.errors import NotFound, PermissionDenied, ValidationError
    from engine.store import comments

    rep = "wang_lei"  # a sales rep in the demo recipe
    assert "sales_rep" in crm.users.get(rep)["roles"]
    account = crm.records("account").create({"name": "Comment Co"})
    comments.add(crm, "account", account["id"], "  first call went well  ", user=None)
    found = comments.for_record(crm, "account", account["id"], user=None)
    assert [c["body"] for c in found] == ["first call went well"]
    with pytest.raises(ValidationError):
        comments.add(crm, "account", account["id"], "   ", user=None)
    # a record the rep cannot see (no owner, no team) takes no comment from them
    with pytest.raises((NotFound, PermissionDenied)):
        comments.add(crm, "account", account["id"], "hello", user=rep)


def test_expressions_through_a_reference_stay_on_the_server(crm):
    script = form_script(crm, "opportunity")
    assert '"computed:region"' in script  # x-computed: account.region
    assert '["lost_detail"]: (function (T)' in script

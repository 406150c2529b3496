"""Rule sets run on every create and update, in the order RULES_DSL.md gives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import orjson
import pytest
from sqlalchemy import select

from engine import ValidationError
from engine.store.system import outbox
from tests.rules.save_defs import install


@pytest.fixture
def p(platform):
    install(platform)
    platform.users.add("alice", roles=["admin"])
    return platform


def messages(p, kind=None):
    with p.db.transaction(write=False) as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.id)).mappings().all()
    return [
        {**dict(r), "payload": orjson.loads(r["payload"])}
        for r in rows
        if kind is None or r["kind"] == kind
    ]


def test_create_runs_computed_fields_scoring_grading_and_routing(p):
    lead = p.records("lead", user="alice").create(
        {"company": "ACME", "source": "website", "industry": "manufacturing", "company_size": 80}
    )
    assert (lead["size_band"], lead["score"], lead["grade"]) == ("small", 20, "warm")
    assert (lead["owner"], lead["team"]) == ("spec", None)
    assert p.records("lead").get(lead["id"])["score"] == 20
    assert p.rules.stamps("lead", lead["id"]) == {
        "lead_score": {"version": 1, "rule": None},
        "lead_grade": {"version": 1, "rule": None},
        "lead_routing": {"version": 1, "rule": "Manufacturing specialist"},
    }


def test_update_runs_the_rules_again_and_keeps_the_owner_while_the_same_rule_matches(p):
    leads = p.records("lead", user="alice")
    lead = leads.create({"company": "A", "industry": "manufacturing"})
    assert lead["owner"] == "spec" and lead["grade"] == "cold"
    leads.update(lead["id"], {"owner": "zoe"})  # a manual reassignment wins
    lead = leads.update(lead["id"], {"page_visits": 6})
    assert (lead["score"], lead["grade"], lead["owner"]) == (12, "warm", "zoe")
    lead = leads.update(lead["id"], {"region": "east"})  # another rule matches: it acts
    assert (lead["owner"], lead["team"]) == ("ann", "shanghai")
    assert p.rules.stamps("lead", lead["id"])["lead_routing"]["rule"] == "East goes to Shanghai"


def test_create_many_runs_rules_on_every_record(p):
    made = p.records("lead").create_many(
        [{"company": f"C{i}", "source": "website", "page_visits": i} for i in range(4)]
    )
    assert [m["score"] for m in made] == [20, 22, 24, 26]
    assert [m["team"] for m in made] == ["pool"] * 4 and {m["owner"] for m in made} == {None}


def test_decision_table_output_is_stored(p):
    opps = p.records("opportunity")
    big = opps.create({"name": "Big", "amount": 600000, "discount": 0, "stage": "new"})
    mid = opps.create({"name": "Mid", "amount": 200000, "discount": 0.15, "stage": "new"})
    assert (big["approver"], mid["approver"]) == ("sales_director", "sales_manager")
    assert opps.update(mid["id"], {"discount": 0.05})["approver"] is None


def test_validation_error_refuses_the_write_with_located_errors(p):
    opps = p.records("opportunity")
    with pytest.raises(ValidationError) as info:
        opps.create({"name": "Late", "close_date": "2026-01-01", "stage": "new"})
    fields = [(e["field"], e["ruleset"], e["severity"]) for e in info.value.errors]
    assert fields == [
        ("close_date", "opportunity_checks", "error"),
        ("stage", "opportunity_checks", "error"),
    ]
    assert info.value.errors[0]["message"] == "Close date cannot be in the past"
    assert opps.count() == 0
    won = opps.create({"name": "Won", "close_date": "2026-01-01", "stage": "won"})
    with pytest.raises(ValidationError):
        opps.update(won["id"], {"stage": "negotiation"})
    assert opps.get(won["id"])["stage"] == "won"


def test_batch_errors_name_the_row_and_nothing_is_stored(p):
    opps = p.records("opportunity")
    with pytest.raises(ValidationError) as info:
        opps.create_many(
            [
                {"name": "ok", "close_date": "2026-12-01", "stage": "new"},
                {"name": "late", "close_date": "2026-01-01", "stage": "new"},
            ]
        )
    assert {e["field"] for e in info.value.errors} == {"[1].close_date", "[1].stage"}
    assert opps.count() == 0


def test_warnings_are_returned_not_refused(p):
    opp = p.records("opportunity").create({"name": "Deal", "discount": 0.3, "stage": "new"})
    [warning] = opp["_warnings"]
    assert (warning["field"], warning["message"], warning["severity"]) == (
        "discount",
        "Large discount",
        "warning",
    )
    assert p.records("opportunity").get(opp["id"])["discount"] == Decimal("0.3")
    assert "_warnings" not in p.records("opportunity").update(opp["id"], {"discount": 0.1})


def test_trigger_effects_go_to_the_outbox_and_changes_follow_the_commit(p):
    lead = p.records("lead", user="alice").create(
        {"company": "ACME", "source": "website", "company_size": 800}
    )
    assert lead["grade"] == "hot" and lead["escalated"] is None  # the trigger runs after
    [task] = messages(p, "task")
    assert task["payload"]["title"] == "First contact with ACME"
    assert task["payload"]["assignee"] == lead["owner"]
    assert task["payload"]["due"].startswith("2026-03-03T09:00")
    [note] = messages(p, "notify")
    assert note["payload"]["message"] == "New hot lead: ACME"
    assert note["key"] == f"rules:lead:{lead['id']}:1:hot_follow_up:2"
    [follow] = messages(p, "record.update")
    assert follow["delivered_on"] is not None
    stored = p.records("lead").get(lead["id"])
    assert stored["escalated"] is True and stored["tags"] == ["vip"]
    assert stored["version"] == 2 and stored["score"] == 30
    p.records("lead").update(lead["id"], {"page_visits": 1})  # not "created": no trigger
    assert len(messages(p, "task")) == 1


def test_a_rolled_back_write_enqueues_nothing(p):
    with pytest.raises(RuntimeError), p.db.transaction():
        p.records("lead").create({"company": "ACME", "source": "website", "company_size": 800})
        raise RuntimeError("the caller's transaction fails")
    assert messages(p) == [] and p.records("lead").count() == 0


def test_follow_ups_wait_for_the_outer_transaction(p):
    with p.db.transaction():
        lead = p.records("lead").create(
            {"company": "ACME", "source": "website", "company_size": 800}
        )
        assert p.records("lead").get(lead["id"])["escalated"] is None
        assert messages(p, "record.update")[0]["delivered_on"] is None
    assert p.records("lead").get(lead["id"])["escalated"] is True


def test_a_failed_follow_up_stays_queued_for_a_retry(p):
    from engine.rules.followups import deliver_pending

    text = 'trigger tag_it on lead when created:\n    add tag "unknown"\n'  # not a tags option
    p.meta.save("rules", "extra", {"name": "extra", "text": text})
    lead = p.records("lead").create({"company": "A"})
    [follow] = messages(p, "record.update")
    assert follow["delivered_on"] is None and follow["attempts"] == 1
    assert "tags" in follow["last_error"]
    assert p.records("lead").get(lead["id"])["tags"] is None
    p.clock.advance(dt.timedelta(minutes=5))
    assert deliver_pending(p) == 1
    assert messages(p, "record.update")[0]["attempts"] == 2


def test_a_rule_change_is_a_new_version_and_records_remember_theirs(p):
    from tests.rules.save_defs import LEAD_RULES

    leads = p.records("lead")
    first = leads.create({"company": "A", "source": "website"})
    p.meta.save("rules", "lead", {"name": "lead", "text": LEAD_RULES.replace("+20", "+25")})
    second = leads.create({"company": "B", "source": "website"})
    assert (first["score"], second["score"]) == (20, 25)
    assert p.rules.stamps("lead", first["id"])["lead_score"]["version"] == 1
    assert p.rules.stamps("lead", second["id"])["lead_score"]["version"] == 2
    assert [v["version"] for v in p.meta.versions("rules", "lead")] == [1, 2]
    leads.update(first["id"], {"company": "A2"})
    assert p.rules.stamps("lead", first["id"])["lead_score"]["version"] == 2


def test_delete_runs_triggers_and_forgets_the_stamps(p):
    text = (
        'trigger gone on lead when deleted:\n    notify "sales_ops" "Lead {company} was deleted"\n'
    )
    p.meta.save("rules", "extra", {"name": "extra", "text": text})
    lead = p.records("lead").create({"company": "Bye"})
    assert p.rules.stamps("lead", lead["id"])
    p.records("lead").delete(lead["id"])
    [note] = messages(p, "notify")
    assert note["payload"]["message"] == "Lead Bye was deleted"
    assert note["payload"]["event"] == "deleted"
    assert p.rules.stamps("lead", lead["id"]) == {}


TICKET = {
    "name": "ticket",
    "schema": {
        "type": "object",
        "properties": {
            "hours": {"type": "integer"},
            "urgent": {"type": "boolean"},
            # Declared before what it reads: computed fields run dependencies first.
            "label": {"type": "string", "x-computed": 'upper(band) + "!"'},
            "band": {"type": "string", "x-computed": 'if hours > 8 then "long" else "short"'},
            "prio": {"type": "integer"},
        },
    },
}


def test_computed_fields_run_in_dependency_order_before_scoring(platform):
    platform.meta.save("entity", "ticket", TICKET)
    text = 'scoring s on ticket into prio:\n    +5 "urgent" when urgent\n    +1 "long" when band == "long"\n'
    platform.meta.save("rules", "ticket", {"name": "ticket", "text": text})
    t = platform.records("ticket").create({"hours": 10, "urgent": True})
    assert (t["band"], t["prio"]) == ("long", 6)
    assert t["label"] == "LONG!"


def test_a_rules_file_broken_by_an_entity_change_stops_running_without_blocking(platform):
    import copy

    platform.meta.save("entity", "ticket", TICKET)
    text = 'scoring s on ticket into prio:\n    +5 "urgent" when urgent\n'
    platform.meta.save("rules", "ticket", {"name": "ticket", "text": text})
    assert platform.records("ticket").create({"urgent": True})["prio"] == 5
    changed = copy.deepcopy(TICKET)
    changed["schema"]["properties"]["urgent"]["x-removed"] = True
    platform.meta.save("entity", "ticket", changed)
    assert platform.records("ticket").create({"hours": 1})["prio"] is None
    [error] = platform.save_hook.live().broken["ticket"]
    assert error["line"] == 2 and "urgent" in error["message"]


def test_follow_ups_of_one_batch_are_applied_together_and_a_failure_stays_alone(p):
    # one lead's trigger adds a tag that is not an option: only its follow-up fails
    text = 'trigger tag_it on lead when created and company == "Bad":\n    add tag "unknown"\n'
    p.meta.save("rules", "extra", {"name": "extra", "text": text})
    rows = [{"company": c, "source": "website", "company_size": 800} for c in "ABCD"]
    rows.insert(2, {"company": "Bad", "source": "website", "company_size": 800})
    created = p.records("lead").create_many(rows)
    by_company = {r["company"]: p.records("lead").get(r["id"]) for r in created}
    for company in "ABCD":  # the others were applied: the hot_follow_up trigger's changes
        lead = by_company[company]
        assert lead["escalated"] is True and lead["tags"] == ["vip"] and lead["version"] == 2
    bad = by_company["Bad"]  # its hot_follow_up was applied, its tag_it rolled back whole
    assert bad["escalated"] is True and bad["tags"] == ["vip"] and bad["version"] == 2
    queued = [m for m in messages(p, "record.update") if m["delivered_on"] is None]
    assert [(m["payload"]["record_id"], m["payload"]["ruleset"]) for m in queued] == [
        (bad["id"], "tag_it")
    ]
    assert queued[0]["attempts"] == 1 and "tags" in queued[0]["last_error"]

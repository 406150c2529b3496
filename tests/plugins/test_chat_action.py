"""The worked example of docs/developer/actions.md: register an action, use it from a rule."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select

from engine import PluginError
from engine.rules.actions import (
    ActionType,
    action_types,
    register_action,
    validate_config,
)
from engine.store.system import outbox
from tests.plugins.chat_action import CHAT, CLOSE
from tests.rules.save_defs import install

RULES = """\
trigger hot_to_chat on lead when created and grade == "hot":
    do "chat" with channel = "#sales", text = concat("Hot lead: ", company)

trigger close_spam on lead when created and company contains "spam":
    do "close_lead"
"""


@pytest.fixture
def p(platform):
    register_action(CHAT, replace=True)
    register_action(CLOSE, replace=True)
    install(platform)
    platform.meta.save("rules", "chat", {"name": "chat", "text": RULES})
    return platform


def test_a_rule_runs_the_registered_action_after_the_commit(p):
    lead = p.records("lead").create({"company": "ACME", "source": "website", "company_size": 900})
    with p.db.transaction(write=False) as conn:
        [row] = conn.execute(select(outbox).where(outbox.c.kind == "chat")).mappings().all()
    payload = orjson.loads(row["payload"])
    assert payload["channel"] == "#sales" and payload["text"] == "Hot lead: ACME"
    assert (payload["entity"], payload["record_id"]) == ("lead", lead["id"])


def test_an_action_that_changes_the_record_applies_in_a_follow_up_write(p):
    lead = p.records("lead").create({"company": "spam inc"})
    assert lead["status"] is None
    assert p.records("lead").get(lead["id"])["status"] == "closed"


def test_the_checker_knows_the_action_and_its_settings(p):
    bad = 'trigger t on lead when created:\n    do "chat" with chanel = "#x", text = "y"\n'
    [wrong, missing] = p.rules.check(bad)
    assert "no setting 'chanel'" in wrong["message"] and "needs channel" in missing["message"]
    [unknown] = p.rules.check('trigger t on lead when created:\n    do "chta"\n')
    assert "did you mean 'chat'" in unknown["message"]


def test_the_registry_lists_schemas_and_refuses_bad_plugins():
    register_action(CHAT, replace=True)
    types = action_types()
    assert {"set", "assign", "task", "notify", "flow", "tag", "webhook", "chat"} <= set(types)
    assert types["assign"].config_schema["properties"]["to"]["enum"][0] == "user"
    assert validate_config("chat", {"channel": "#a", "text": "hi"}) == []
    [problem] = validate_config("chat", {"channel": "general", "text": "hi"})
    assert problem["field"] == "channel"
    with pytest.raises(PluginError, match="already registered"):
        register_action(CHAT)
    with pytest.raises(PluginError, match="invalid config schema"):
        register_action(ActionType("broken", {"type": "nonsense"}, lambda ctx, c: None))
    with pytest.raises(PluginError, match="no action type"):
        validate_config("nope", {})

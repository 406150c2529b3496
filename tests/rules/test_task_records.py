"""A rule's ``create task`` saved as a record of the entity the bundle names (``tasks:``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from engine import BundleError

MANIFEST = {"name": "deals", "version": "1.0.0", "label": "Deals", "depends": []}
DEAL = {
    "name": "deal",
    "label": "Deal",
    "title_field": "title",
    "schema": {
        "type": "object",
        "properties": {"title": {"type": "string"}, "amount": {"type": "number"}},
    },
}
TODO = {
    "name": "todo",
    "label": "To-do",
    "title_field": "text",
    "schema": {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": {"type": "string", "maxLength": 20},
            "due": {"type": "string", "format": "date-time"},
            "made_by": {"type": "string"},
            "deal": {"type": "integer", "x-ref": "deal"},
        },
    },
}
RULES = """trigger big_deal on deal when created and amount > 100:
    create task "Call the customer about {title}" for "alice" due in 24h
"""


def write(root: Path, tasks: dict | None) -> Path:
    (root / "entities").mkdir(parents=True)
    (root / "rules").mkdir()
    manifest = {**MANIFEST, **({"tasks": tasks} if tasks else {})}
    (root / "bundle.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    for entity in (DEAL, TODO):
        path = root / "entities" / f"{entity['name']}.yaml"
        path.write_text(yaml.safe_dump(entity), encoding="utf-8")
    (root / "rules" / "deal.rules").write_text(RULES, encoding="utf-8")
    return root


def test_a_rule_task_becomes_a_record_linked_to_its_record(platform, tmp_path):
    platform.clock.set("2026-05-04T09:00:00+00:00")
    platform.install(write(tmp_path / "b", {"entity": "todo", "due": "due", "rule": "made_by"}))
    deal = platform.records("deal").create({"title": "Big order", "amount": 500})
    platform.records("deal").create({"title": "Small", "amount": 5})
    platform.jobs.run_due()
    platform.jobs.run_due()  # delivered once
    [todo] = platform.records("todo").list()
    assert todo["text"] == "Call the customer ab"  # cut to the field's maxLength
    assert todo["deal"] == deal["id"] and todo["owner"] == "alice"
    assert todo["due"] == dt.datetime(2026, 5, 5, 9, 0, tzinfo=dt.UTC)
    assert todo["made_by"] == "big_deal"  # the rule that made it


def test_without_a_tasks_section_task_messages_wait(platform, tmp_path):
    from engine.store.outbox import due_messages

    platform.install(write(tmp_path / "b", None))
    platform.records("deal").create({"title": "Big order", "amount": 500})
    platform.jobs.run_due()
    assert platform.records("todo").list() == []
    with platform.db.transaction(write=False) as conn:
        waiting = [m for m in due_messages(conn, platform.clock.now()) if m.kind == "task"]
    assert len(waiting) == 1


def test_check_names_a_tasks_field_the_entity_lacks(platform, tmp_path):
    root = write(tmp_path / "b", {"entity": "todo", "due": "due_on"})
    with pytest.raises(BundleError) as info:
        platform.check(root)
    (entry,) = [e for e in info.value.errors if "due_on" in e["message"]]
    assert entry["file"] == "bundle.yaml" and "not a field of todo" in entry["message"]
    with pytest.raises(BundleError, match="neither in this bundle nor installed"):
        platform.check(write(tmp_path / "c", {"entity": "todos"}))

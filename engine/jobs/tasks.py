"""Tasks as records: outbox messages of kind ``task`` (a rule's ``create task``) saved as
records of the entity a bundle names for its to-dos.

A bundle opts in in its ``bundle.yaml``::

    tasks:
      entity: task            # the entity that holds the to-dos
      title: subject          # field for the task's text (default: the title field)
      due: due_at             # field for the due time (optional)
      rule: origin_rule       # field for the rule set that created it (optional)

The task's owner is the rule's ``for`` (a user name); the record that fired the
rule is linked through the task entity's reference field to that record's
entity (``lead`` for a lead rule), when it has one. The record is saved through
the record service as the system, so the task entity's own rules, defaults and
audit apply. Without a bundle naming a task entity, ``task`` messages wait in
the outbox for a deliverer a developer registers, as before.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.store.outbox import Message

KIND = "task"


def task_config(platform: Any) -> dict[str, Any] | None:
    """The ``tasks`` section of the first installed bundle (by name) that has one."""
    with platform.db.transaction(write=False) as conn:
        apps = platform.repo.all_current(conn, "app")
    for _name, (manifest, _version) in sorted(apps.items()):
        config = manifest.get("tasks")
        if isinstance(config, dict) and config.get("entity"):
            return config
    return None


def _due(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


class TaskDeliverer:
    """``p.tasks``: turn ``task`` messages into records of the configured entity."""

    def __init__(self, platform: Any) -> None:
        self.p = platform

    def config(self) -> dict[str, Any] | None:
        return task_config(self.p)

    def values(self, config: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        """The new task record's values for one message (JSON payload)."""
        model = self.p.records(config["entity"]).model
        fields = model.fields
        title_field = config.get("title") or model.title_field
        values: dict[str, Any] = {}
        if title_field in fields:
            limit = fields[title_field].prop.get("maxLength")
            title = str(payload.get("title") or "")
            values[title_field] = title[:limit] if isinstance(limit, int) else title
        if config.get("due") in fields and payload.get("due") is not None:
            values[config["due"]] = _due(payload["due"])
        if config.get("rule") in fields and payload.get("ruleset"):
            values[config["rule"]] = str(payload["ruleset"])
        source, record_id = payload.get("entity"), payload.get("record_id")
        if source and record_id is not None:
            for f in fields.values():
                if f.prop.get("x-ref") == source and not f.removed and not f.read_only:
                    values[f.key] = record_id
                    break
        if payload.get("assignee"):
            values["owner"] = str(payload["assignee"])
        return values

    def deliver(self, message: Message) -> dict[str, Any] | None:
        """Create the task record; returns it, or None when no bundle names a task entity."""
        config = self.config()
        if config is None:
            return None
        service = self.p.records(config["entity"])
        return service.create(self.values(config, message.payload), internal=True)


__all__ = ["KIND", "TaskDeliverer", "task_config"]

"""The actions the rule language spells out, registered like any developer's action.

``set``, ``assign`` and ``add tag`` change the record; ``create task``,
``notify``, ``start flow`` and ``call webhook`` leave an outbox message whose
kind names the engine that delivers it (``task``, ``notify``, ``flow``,
``webhook``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.rules.actions import ActionContext, ActionType, register_action

_NAME = {"type": "string", "minLength": 1}


def _set(ctx: ActionContext, config: dict[str, Any]) -> None:
    ctx.set(config["field"], config.get("value"))


def _assign(ctx: ActionContext, config: dict[str, Any]) -> None:
    ctx.assign(config["to"], config.get("target"), config.get("strategy"))


def _tag(ctx: ActionContext, config: dict[str, Any]) -> None:
    """Add to the record's ``tags`` field; an entity without one gets a ``tag`` message."""
    if "tags" in ctx.fields:
        tags = list(ctx.record.get("tags") or [])
        if config["name"] not in tags:
            ctx.set("tags", [*tags, config["name"]])
    else:
        ctx.enqueue("tag", {"tag": config["name"]})


def _task(ctx: ActionContext, config: dict[str, Any]) -> None:
    due_in = config.get("due_in")
    due = ctx.now + due_in if isinstance(due_in, dt.timedelta) else None
    ctx.enqueue("task", {"title": config["title"], "assignee": config.get("for"), "due": due})


def _notify(ctx: ActionContext, config: dict[str, Any]) -> None:
    ctx.enqueue("notify", {"to": config.get("to"), "message": config["message"]})


def _flow(ctx: ActionContext, config: dict[str, Any]) -> None:
    ctx.enqueue("flow", {"flow": config["name"]})


def _webhook(ctx: ActionContext, config: dict[str, Any]) -> None:
    ctx.enqueue("webhook", {"webhook": config["name"], "record": ctx.record})


BUILTIN_ACTIONS = (
    ActionType(
        "set",
        {
            "type": "object",
            "required": ["field"],
            "properties": {"field": _NAME, "value": {}},
            "additionalProperties": False,
        },
        _set,
        changes_record=True,
        label="Set a field",
    ),
    ActionType(
        "assign",
        {
            "type": "object",
            "required": ["to", "target"],
            "properties": {
                "to": {"enum": ["user", "team", "queue", "field"]},
                "target": {"type": ["string", "null"]},
                "strategy": {"enum": ["round_robin", "least_loaded", None]},
            },
            "additionalProperties": False,
        },
        _assign,
        changes_record=True,
        label="Assign the record",
    ),
    ActionType(
        "task",
        {
            "type": "object",
            "required": ["title", "for"],
            "properties": {
                "title": _NAME,
                "for": {"type": ["string", "null"]},
                "due_in": {"description": "a duration such as 24h"},
            },
            "additionalProperties": False,
        },
        _task,
        label="Create a task",
    ),
    ActionType(
        "notify",
        {
            "type": "object",
            "required": ["to", "message"],
            "properties": {"to": {"type": ["string", "null"]}, "message": {"type": "string"}},
            "additionalProperties": False,
        },
        _notify,
        label="Notify someone",
    ),
    ActionType(
        "flow",
        {
            "type": "object",
            "required": ["name"],
            "properties": {"name": _NAME},
            "additionalProperties": False,
        },
        _flow,
        label="Start a flow",
    ),
    ActionType(
        "tag",
        {
            "type": "object",
            "required": ["name"],
            "properties": {"name": _NAME},
            "additionalProperties": False,
        },
        _tag,
        changes_record=True,
        label="Add a tag",
    ),
    ActionType(
        "webhook",
        {
            "type": "object",
            "required": ["name"],
            "properties": {"name": _NAME},
            "additionalProperties": False,
        },
        _webhook,
        label="Call a webhook",
    ),
)


def register_all() -> None:
    for action in BUILTIN_ACTIONS:
        register_action(action, replace=True)


__all__ = ["BUILTIN_ACTIONS", "register_all"]

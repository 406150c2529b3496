"""Notify and webhook: effects that leave the system, through the outbox only.

Each enqueues one outbox message keyed by instance, token and node, so a
retried step never sends twice, and moves on at once (delivery is the
outbox worker's job, at least once).
"""

from __future__ import annotations

from engine.flows.nodes import people
from engine.flows.nodes.base import NodeContext, NodeType, Step, ValidationTools, proceed
from engine.flows.spec import FlowSpec, NodeSpec
from engine.i18n import t


class Notify(NodeType):
    name = "notify"
    label = {"en": "Notify", "zh-CN": "通知"}
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["to", "message"],
        "properties": {
            "to": people.ASSIGNEE_SCHEMA,
            "subject": {"type": "string"},
            "message": {"type": "string", "minLength": 1},
            "channel": {"enum": ["inbox", "email"], "default": "inbox"},
            # A web form with ``answers``: the message links to a one-time page on which
            # someone outside answers the flow's record (a customer's survey).
            "answer_link": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        },
    }

    def validate(self, node: NodeSpec, spec: FlowSpec, tools: ValidationTools) -> list[str]:
        return people.field_problems(node.config.get("to"), tools.fields)

    def enter(self, ctx: NodeContext) -> Step:
        cfg = ctx.node.config
        users, roles = people.resolve(
            cfg["to"], ctx.record, ctx.instance.get("started_by"), ctx.manager_of
        )
        payload = {
            "users": users,
            "roles": roles,
            "channel": cfg.get("channel", "inbox"),
            "subject": cfg.get("subject"),
            "message": cfg["message"],
            "flow": ctx.spec.name,
            "instance": ctx.instance["id"],
            "entity": ctx.instance.get("entity"),
            "record_id": ctx.instance.get("record_id"),
        }
        if cfg.get("answer_link"):
            payload["link"] = ctx.answer_link(cfg["answer_link"])
        ctx.enqueue("notify", payload, key=f"flow:{ctx.instance['id']}:{ctx.token['id']}:notify")
        return proceed(*ctx.outgoing())


class Webhook(NodeType):
    name = "webhook"
    label = {"en": "Webhook", "zh-CN": "网络钩子"}
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "pattern": "^https?://"},
            "fields": {"type": "array", "items": {"type": "string"}},
        },
    }

    def validate(self, node: NodeSpec, spec: FlowSpec, tools: ValidationTools) -> list[str]:
        fields = node.config.get("fields") or []
        return [t("fields: {f!r} is not a field of {entity!r}", f=f, entity=spec.entity) for f in fields
                if tools.fields and f not in tools.fields]  # fmt: skip

    def enter(self, ctx: NodeContext) -> Step:
        record = ctx.record() or {}
        wanted = ctx.node.config.get("fields")
        body = {k: record.get(k) for k in wanted} if wanted else {"id": record.get("id")}
        payload = {
            "url": ctx.node.config["url"],
            "body": {"flow": ctx.spec.name, "instance": ctx.instance["id"], "record": body},
        }
        ctx.enqueue("webhook", payload, key=f"flow:{ctx.instance['id']}:{ctx.token['id']}:webhook")
        return proceed(*ctx.outgoing())

"""Human task: someone does something and says how it went (one of the node's outcomes).

Several assignees means any one of them may do it; the first completion wins
and the other copies are withdrawn. The flow leaves by the edge marked with
the outcome, or by the unmarked edge.
"""

from __future__ import annotations

from typing import Any

from engine.errors import FlowError
from engine.flows.nodes import people
from engine.flows.nodes.base import NodeContext, NodeType, Step, ValidationTools, proceed, wait
from engine.flows.spec import FlowSpec, NodeSpec
from engine.i18n import t


class HumanTask(NodeType):
    name = "task"
    label = {"en": "Human task", "zh-CN": "人工任务"}
    outputs = (1, None)
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["assignee"],
        "properties": {
            "assignee": people.ASSIGNEE_SCHEMA,
            "outcomes": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            },
            "label": {},
        },
    }

    def node_outcomes(self, node: NodeSpec) -> tuple[str, ...]:
        return tuple(node.config.get("outcomes") or ("done",))

    def validate(self, node: NodeSpec, spec: FlowSpec, tools: ValidationTools) -> list[str]:
        return people.field_problems(node.config.get("assignee"), tools.fields)

    def enter(self, ctx: NodeContext) -> Step:
        users, roles = people.resolve(
            ctx.node.config["assignee"],
            ctx.record,
            ctx.instance.get("started_by"),
            ctx.manager_of,
        )
        if not users and not roles:
            raise FlowError(t("node {id!r}: the assignee resolves to nobody", id=ctx.node.id))
        outcomes = self.node_outcomes(ctx.node)
        label = ctx.node.config.get("label") or ctx.node.label
        for user in users:
            ctx.create_task(kind="task", assignee=user, outcomes=outcomes, label=label)
        for role in roles:
            ctx.create_task(kind="task", role=role, outcomes=outcomes, label=label)
        return wait()

    def signal(self, ctx: NodeContext, event: dict[str, Any]) -> Step:
        if event.get("type") != "task":
            return super().signal(ctx, event)
        ctx.cancel_tasks()
        return proceed(*ctx.outgoing(event["outcome"]))

"""Sub-flow: run another published flow on the same record and wait for it to end.

The child instance starts in the parent's step (same transaction) on the
child flow's live version, and keeps it. When it completes, the parent goes
on by the edge marked with the child's outcome, or the unmarked one; a child
that fails or is cancelled on its own ends the parent with that status as
its outcome. Cancelling the parent cancels the child.
"""

from __future__ import annotations

from typing import Any

from engine.flows.nodes.base import (
    NodeContext,
    NodeType,
    Step,
    ValidationTools,
    proceed,
    terminate,
    wait,
)
from engine.flows.spec import FlowSpec, NodeSpec
from engine.i18n import t


class SubFlow(NodeType):
    name = "subflow"
    label = {"en": "Sub-flow", "zh-CN": "子流程"}
    outputs = (1, None)
    open_outcomes = True
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["flow"],
        "properties": {"flow": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}},
    }

    def validate(self, node: NodeSpec, spec: FlowSpec, tools: ValidationTools) -> list[str]:
        if node.config.get("flow") == spec.name:
            return [t("a flow cannot run itself as a sub-flow")]
        marked = [e for e in spec.outgoing(node.id) if e.outcome is not None]
        if marked and not any(e.outcome is None for e in spec.outgoing(node.id)):
            return [t("needs one unmarked edge for the outcomes no edge names")]
        return []

    def enter(self, ctx: NodeContext) -> Step:
        child = ctx.start_subflow(ctx.node.config["flow"])
        if child["status"] == "running":
            return wait()
        return self._after(ctx, child["status"], child.get("outcome"))

    def signal(self, ctx: NodeContext, event: dict[str, Any]) -> Step:
        if event.get("type") != "subflow":
            return super().signal(ctx, event)
        return self._after(ctx, event["status"], event.get("outcome"))

    def _after(self, ctx: NodeContext, status: str, outcome: str | None) -> Step:
        if status != "completed":
            return terminate(f"subflow {status}")
        return proceed(*ctx.outgoing(outcome))

    def cancel(self, ctx: NodeContext) -> None:
        ctx.cancel_subflows()
        super().cancel(ctx)

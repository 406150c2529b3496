"""Start and end: where a token is born and where it dies."""

from __future__ import annotations

from engine.flows.nodes.base import NodeContext, NodeType, Step, finish


class Start(NodeType):
    """The one entry of a flow: no incoming edge, one outgoing."""

    name = "start"
    label = {"en": "Start", "zh-CN": "开始"}
    inputs = (0, 0)
    outputs = (1, 1)


class End(NodeType):
    """A token that reaches an end is done; the instance completes when none is left.

    ``outcome`` names the result the instance ends with (``approved``,
    ``rejected``...); without it the instance's outcome is ``completed``.
    """

    name = "end"
    label = {"en": "End", "zh-CN": "结束"}
    inputs = (1, None)
    outputs = (0, 0)
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"outcome": {"type": "string", "minLength": 1, "maxLength": 64}},
    }

    def enter(self, ctx: NodeContext) -> Step:
        return finish(ctx.node.config.get("outcome"))

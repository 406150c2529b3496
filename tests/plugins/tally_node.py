"""A node type written the way a developer outside the project would: add to a number field.

docs/developer/node-types.md walks through this file.
"""

from __future__ import annotations

from engine.flows.nodes.base import NodeContext, NodeType, Step, ValidationTools, proceed
from engine.flows.spec import FlowSpec, NodeSpec


class Tally(NodeType):
    """Add ``by`` (1 unless the node says otherwise) to the number field ``field``, then go on."""

    name = "tally"
    version = 1
    label = {"en": "Tally", "zh-CN": "计数"}
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["field"],
        "properties": {
            "field": {"type": "string"},
            "by": {"type": "number", "default": 1},
        },
    }

    def validate(self, node: NodeSpec, spec: FlowSpec, tools: ValidationTools) -> list[str]:
        field = node.config["field"]
        if tools.fields and field not in tools.fields:
            return [f"field {field!r} is not a field of {spec.entity!r}"]
        return tools.check_expression(f"{field} + 1", False)

    def enter(self, ctx: NodeContext) -> Step:
        field = ctx.node.config["field"]
        current = (ctx.record() or {}).get(field) or 0
        ctx.update_record({field: current + ctx.node.config.get("by", 1)})
        return proceed(*ctx.outgoing())

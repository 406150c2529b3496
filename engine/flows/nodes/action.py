"""Action: set fields of the flow's record, then go on.

``set: {approval_status: '"approved"', approved_on: 'today()'}``: each value is
an expression over the record as it is when the token arrives.
``ruleset: deal_grade``: run a loaded rule set (scoring, grading, a decision
table, routing) and write what it gives into its target. Either way the
update goes through the record service in the step's transaction, so
validation, computed fields and the audit log apply, and a refusal undoes
the step.
"""

from __future__ import annotations

from engine.flows.nodes.base import NodeContext, NodeType, Step, ValidationTools, proceed
from engine.flows.spec import FlowSpec, NodeSpec
from engine.i18n import t


class Action(NodeType):
    name = "action"
    label = {"en": "Set fields", "zh-CN": "更新字段"}
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {
            "set": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {"type": "string", "minLength": 1},
            },
            "ruleset": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        },
    }

    def validate(self, node: NodeSpec, spec: FlowSpec, tools: ValidationTools) -> list[str]:
        problems = []
        if not spec.entity:
            return [t("setting fields needs the flow to name its entity")]
        for key, expr in (node.config.get("set") or {}).items():
            if tools.fields and key not in tools.fields:
                problems.append(
                    t("set: {key!r} is not a field of {entity!r}", key=key, entity=spec.entity)
                )
                continue
            problems += [f"set.{key}: {m}" for m in tools.check_expression(expr, False)]
        return problems

    def enter(self, ctx: NodeContext) -> Step:
        if "ruleset" in ctx.node.config:
            ctx.run_ruleset(ctx.node.config["ruleset"])
            return proceed(*ctx.outgoing())
        values = {key: ctx.evaluate(expr) for key, expr in ctx.node.config["set"].items()}
        ctx.update_record(values)
        return proceed(*ctx.outgoing())

"""Create record: make a record of another entity from the flow's record, then go on.

``{entity: service_project, values: {contract: 'id', account: 'account',
name: 'title + " service"'}}``: each value is a rule-language expression over
the flow's record as it is when the token arrives. The new record goes
through its record service in the step's transaction, so validation,
defaults, computed fields, rules and the audit log apply, and a refusal
undoes the whole step. This is what "a signed contract starts a service
project" needs without a line of Python in the bundle.
"""

from __future__ import annotations

from engine.flows.nodes.base import NodeContext, NodeType, Step, ValidationTools, proceed
from engine.flows.nodes.field_values import FIELD_VALUES_SCHEMA, NAME_PATTERN, field_value_problems
from engine.flows.spec import FlowSpec, NodeSpec
from engine.i18n import t


class CreateRecord(NodeType):
    name = "create_record"
    label = {"en": "Create a record", "zh-CN": "新建记录"}
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["entity", "values"],
        "properties": {
            "entity": {"type": "string", "pattern": NAME_PATTERN},
            "values": FIELD_VALUES_SCHEMA,
        },
    }

    def validate(self, node: NodeSpec, spec: FlowSpec, tools: ValidationTools) -> list[str]:
        if not spec.entity:
            return [t("creating a record from the flow's record needs the flow to name its entity")]
        target = node.config["entity"]
        fields = tools.entity_fields(target)
        if fields is None:
            return [t("entity: {target!r} does not exist", target=target)]
        return field_value_problems(tools, "values", target, fields, node.config["values"])

    def enter(self, ctx: NodeContext) -> Step:
        values = {key: ctx.evaluate(expr) for key, expr in ctx.node.config["values"].items()}
        ctx.create_record(ctx.node.config["entity"], values)
        return proceed(*ctx.outgoing())

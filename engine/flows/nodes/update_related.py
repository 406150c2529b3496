"""Update related: change the record a reference field of the flow's record points to.

``{field: opportunity, set: {stage: '"won"', closed_on: 'today()'}}`` on a
contract flow marks the contract's opportunity won. ``summarize`` sets fields
from every record of the flow's entity pointing at the same related record:
``{field: account, summarize: {csat_avg: {avg: csat}, csat_count: {count: csat}}}``
on a survey-answer flow keeps the customer's average up to date; the figures
are counted again from the stored rows each time, never added to. The expressions are
evaluated over the flow's own record (the contract), the change is saved
through the related entity's record service in the step's transaction
(validation, rules, audit), so a refusal undoes the step. An empty reference
is skipped unless ``required: true``, which makes it an error.
"""

from __future__ import annotations

from engine.errors import FlowError
from engine.flows.nodes.base import NodeContext, NodeType, Step, ValidationTools, proceed
from engine.flows.nodes.field_values import FIELD_VALUES_SCHEMA, NAME_PATTERN, field_value_problems
from engine.flows.spec import FlowSpec, NodeSpec
from engine.i18n import t

AGGREGATES = ("count", "sum", "avg", "min", "max")


class UpdateRelated(NodeType):
    name = "update_related"
    label = {"en": "Update a related record", "zh-CN": "更新关联记录"}
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["field"],
        "anyOf": [{"required": ["set"]}, {"required": ["summarize"]}],
        "properties": {
            "field": {"type": "string", "pattern": NAME_PATTERN},
            "summarize": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": NAME_PATTERN},
                "additionalProperties": {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "propertyNames": {"enum": list(AGGREGATES)},
                    "additionalProperties": {"type": "string", "pattern": NAME_PATTERN},
                },
            },
            "set": FIELD_VALUES_SCHEMA,
            "required": {"type": "boolean", "default": False},
        },
    }

    def validate(self, node: NodeSpec, spec: FlowSpec, tools: ValidationTools) -> list[str]:
        if not spec.entity:
            return [t("updating a related record needs the flow to name its entity")]
        field = node.config["field"]
        if tools.fields and field not in tools.fields:
            return [
                t("field: {field!r} is not a field of {entity!r}", field=field, entity=spec.entity)
            ]
        target = tools.reference(field)
        if target is None:
            return (
                [t("field: {field!r} is not a reference to another record", field=field)]
                if tools.fields
                else []
            )
        fields = tools.entity_fields(target) or set()
        problems = field_value_problems(tools, "set", target, fields, node.config.get("set") or {})
        for key, wanted in (node.config.get("summarize") or {}).items():
            if key not in fields:
                problems.append(
                    t("summarize: {key!r} is not a field of {target!r}", key=key, target=target)
                )
            for agg, of in wanted.items():
                if tools.fields and of not in tools.fields:
                    problems.append(
                        t(
                            "summarize.{key}.{agg}: {of!r} is not a field of {entity!r}",
                            key=key,
                            agg=agg,
                            of=of,
                            entity=spec.entity,
                        )
                    )
        return problems

    def enter(self, ctx: NodeContext) -> Step:
        cfg = ctx.node.config
        values = {key: ctx.evaluate(expr) for key, expr in (cfg.get("set") or {}).items()}
        if cfg.get("summarize"):
            values.update(ctx.summarize_related(cfg["field"], cfg["summarize"]) or {})
        if ctx.update_related(cfg["field"], values) is None and cfg.get("required"):
            raise FlowError(
                t(
                    "node {id!r}: the record's {field!r} is empty",
                    id=ctx.node.id,
                    field=cfg["field"],
                )
            )
        return proceed(*ctx.outgoing())

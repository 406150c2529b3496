"""Approval: one or more people approve or reject; the flow follows the decision.

``mode: any`` (the default) lets the first decision decide and withdraws the
other tasks. ``mode: all`` needs every approver to approve; the first
rejection decides at once. A rejection follows the edge marked
``outcome: reject``; with no such edge the instance ends ``rejected``.
The approve path is the edge marked ``outcome: approve`` or the unmarked one.

``timeout: {after: 48h, action: escalate, to: {role: admin}}`` starts a
timer with the tasks: when it fires before a decision, the open tasks are
withdrawn and new ones go to ``to`` (``escalate``), or the node decides by
itself (``approve`` / ``reject``).

``on_reject: initiator`` sends a rejection back to whoever started the
instance as a task to ``resubmit`` (the approvers get new tasks) or
``withdraw`` (the rejection stands and is routed as above). Any approver
may do the same for one decision by completing a task with ``return``.

``p.flows.add_signer`` adds a ``signer`` task at the step: the step then
also waits for that person's approval, whatever the mode.

``comment_required: on_reject`` makes a rejection (or a return) give its reason
in the comment; ``always`` asks it of every decision; ``never`` is the default.
``FlowService.complete`` refuses a decision without the comment it needs.

``fallback: {role: sales_director}`` names who approves when ``approvers``
name nobody (a manager chain that runs out at the top, an empty owner field);
without it such a step fails, since nobody could ever answer it.
"""

from __future__ import annotations

from typing import Any

from engine.errors import FlowError
from engine.flows.nodes import people
from engine.flows.nodes.base import (
    NodeContext,
    NodeType,
    Step,
    ValidationTools,
    proceed,
    terminate,
    wait,
)
from engine.flows.nodes.timer import DURATION_PATTERN, parse_duration
from engine.flows.spec import FlowSpec, NodeSpec
from engine.i18n import t


class Approval(NodeType):
    name = "approval"
    # Every way out by ``proceed`` (a decision, a timeout's approve or reject, a
    # withdrawn revision) cancels the open tasks and the timeout's timers first.
    moves_on = True
    label = {"en": "Approval", "zh-CN": "审批"}
    outputs = (1, 2)
    outcomes = ("approve", "reject")
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["approvers"],
        "properties": {
            "approvers": people.ASSIGNEE_SCHEMA,
            "fallback": people.ASSIGNEE_SCHEMA,
            "mode": {"enum": ["any", "all"], "default": "any"},
            "on_reject": {"enum": ["route", "initiator"], "default": "route"},
            "comment_required": {"enum": ["never", "on_reject", "always"], "default": "never"},
            "label": {},
            "timeout": {
                "type": "object",
                "additionalProperties": False,
                "required": ["after", "action"],
                "properties": {
                    "after": {"type": "string", "pattern": DURATION_PATTERN},
                    "action": {"enum": ["escalate", "approve", "reject"]},
                    "to": people.ASSIGNEE_SCHEMA,
                },
                "if": {"properties": {"action": {"const": "escalate"}}},
                "then": {"required": ["to"]},
            },
        },
    }

    def validate(self, node: NodeSpec, spec: FlowSpec, tools: ValidationTools) -> list[str]:
        problems = people.field_problems(node.config.get("approvers"), tools.fields)
        if "fallback" in node.config:
            problems += people.field_problems(node.config["fallback"], tools.fields)
        if not any(e.outcome in (None, "approve") for e in spec.outgoing(node.id)):
            problems.append(t("needs an edge for approve (unmarked or outcome: approve)"))
        return problems

    def enter(self, ctx: NodeContext) -> Step:
        timeout = ctx.node.config.get("timeout")
        due = ctx.now + parse_duration(timeout["after"]) if timeout else None
        self._assign(ctx, ctx.node.config["approvers"], due)
        if due is not None:
            ctx.start_timer(due)
        return wait()

    def _assign(self, ctx: NodeContext, who: dict[str, Any], due: Any) -> None:
        users, roles = people.resolve(
            who, ctx.record, ctx.instance.get("started_by"), ctx.manager_of
        )
        fallback = ctx.node.config.get("fallback")
        if not users and not roles and fallback:
            users, roles = people.resolve(
                fallback, ctx.record, ctx.instance.get("started_by"), ctx.manager_of
            )
        if not users and not roles:
            raise FlowError(t("node {id!r}: the approvers resolve to nobody", id=ctx.node.id))
        label = task_label(ctx.node)
        for user in users:
            ctx.create_task(
                kind="approval", assignee=user, outcomes=self.outcomes, label=label, due=due
            )
        for role in roles:
            ctx.create_task(
                kind="approval", role=role, outcomes=self.outcomes, label=label, due=due
            )

    def signal(self, ctx: NodeContext, event: dict[str, Any]) -> Step:
        if event.get("type") == "timer":
            timeout = ctx.node.config["timeout"]
            ctx.cancel_tasks()
            if timeout["action"] == "escalate":
                self._assign(ctx, timeout["to"], None)
                return wait()
            return self.route(ctx, timeout["action"])
        if event.get("type") != "task":
            return super().signal(ctx, event)
        if event["task"]["kind"] == "revise":
            if event["outcome"] == "resubmit":
                return self.enter(ctx)
            return self.route(ctx, "reject")
        outcome = event["outcome"]
        mode = ctx.node.config.get("mode", "any")
        # A countersign (mode all) waits for every other task; mode any waits only when
        # signers were added to the step (the service notes that in the token's state):
        # for them, and, after a signer, for one approver. Reading the tasks costs a
        # query, so a plain any-of approval does not.
        if outcome == "approve" and (mode == "all" or ctx.state.get("signers")):
            if event["task"]["kind"] != "signer":
                ctx.state["approved"] = True
            other = ctx.open_task()  # a signer's kind first, if one is open
            if other is not None and (
                mode == "all" or other == "signer" or not ctx.state.get("approved")
            ):
                return wait()
        ctx.state.pop("approved", None)
        ctx.state.pop("signers", None)
        ctx.cancel_tasks()
        if ctx.node.config.get("timeout"):  # only a timeout starts timers on this token
            ctx.cancel_timers()
        initiator = ctx.instance.get("started_by")
        if outcome == "return" and initiator:  # an approver sent it back (see the service)
            outcome = "reject_to_initiator"
        if outcome == "reject_to_initiator" or (
            outcome == "reject" and ctx.node.config.get("on_reject") == "initiator" and initiator
        ):
            ctx.create_task(
                kind="revise",
                assignee=initiator,
                outcomes=("resubmit", "withdraw"),
                label=task_label(ctx.node),
            )
            return wait()
        return self.route(ctx, outcome)

    def route(self, ctx: NodeContext, outcome: str) -> Step:
        marked = [e for e in ctx.spec.outgoing(ctx.node.id) if e.outcome == outcome]
        if marked:
            return proceed(*marked)
        if outcome == "reject":
            return terminate("rejected")
        return proceed(*[e for e in ctx.spec.outgoing(ctx.node.id) if e.outcome is None])


def comment_needed(config: dict[str, Any], outcome: str) -> bool:
    """Whether an approval node with ``config`` needs a comment for ``outcome``."""
    rule = config.get("comment_required", "never")
    return rule == "always" or (rule == "on_reject" and outcome in ("reject", "return"))


def task_label(node: NodeSpec) -> Any:
    """The label an approval's tasks carry: the node's ``label`` setting, else its own label."""
    return node.config.get("label") or node.label

"""The tasks inbox (``/tasks``) and a flow instance's page (``/flows/instances/<id>``).

The inbox lists what waits for the signed-in user (approvals and to-dos for
them or their roles), what they were copied on, what they asked for and their
notifications. The buttons open dialogs whose scripts (``tasks.js``) call the
REST API; every decision is the engine's. The instance page draws the flow's
graph as SVG (the designer's saved positions, else the layout from
``engine.flows.layout``) with the current step marked and the steps taken
shaded, the path taken step by step (who acted, when, with what comment),
and the instance's history. The drawing stays server-side SVG rather than a
read-only X6 canvas: it needs no script, prints, and reads the same for
everyone who may follow the request.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template, request

from engine.errors import NotFound, PermissionDenied
from engine.flows.service import RETURNABLE
from web.http import platform_of
from web.i18n import gettext, label
from web.ui.context import sign_in_first

blueprint = Blueprint("tasks", __name__)

TABS = ("todo", "cc", "requests", "notifications")
#: History events worth showing a person (the rest are the runtime's bookkeeping).
SHOWN = {
    "task_created",
    "task_completed",
    "task_transferred",
    "signer_added",
    "comment",
    "withdrawn",
    "timer_fired",
    "failed",
}


def outcome_label(outcome: str | None) -> str:
    """How a task was (or can be) completed, in the request's language."""
    known = {
        "approve": gettext("Approve"),
        "reject": gettext("Reject"),
        "return": gettext("Return"),
        "done": gettext("Done"),
        "resubmit": gettext("Resubmit"),
        "withdraw": gettext("Withdraw"),
    }
    return known.get(outcome or "", outcome or "")


def decided_label(outcome: str | None) -> str:
    """What a completed task did, for the history."""
    known = {
        "approve": gettext("Approved"),
        "reject": gettext("Rejected"),
        "return": gettext("Returned to the requester"),
        "resubmit": gettext("Resubmitted"),
        "withdraw": gettext("Withdrawn"),
        "done": gettext("Done"),
    }
    return known.get(outcome or "", outcome or "")


@blueprint.app_template_global("outcome_label")
def _outcome_label(outcome: str | None) -> str:
    return outcome_label(outcome)


@blueprint.app_template_global("decided_label")
def _decided_label(outcome: str | None) -> str:
    return decided_label(outcome)


class _Names:
    """Labels of flows, nodes and records for one request, each looked up once."""

    def __init__(self, user: str) -> None:
        self.p = platform_of()
        self.user = user
        self._specs: dict[tuple[str, int | None], Any] = {}
        self._titles: dict[tuple[str, int], str] = {}
        self._roles: dict[str, Any] | None = None

    def spec(self, flow: str, version: int | None = None) -> Any:
        key = (flow, version)
        if key not in self._specs:
            try:
                self._specs[key] = self.p.flows.spec(flow, version)[0]
            except NotFound:
                self._specs[key] = None
        return self._specs[key]

    def flow(self, flow: str | None, version: int | None = None) -> str:
        if not flow:
            return ""
        spec = self.spec(flow, version)
        return label(spec.label if spec else None, flow)

    def node(self, flow: str, version: int | None, node: str | None) -> str:
        if not node:
            return ""
        spec = self.spec(flow, version)
        found = spec.nodes.get(node) if spec else None
        text = found.config.get("label") or found.label if found else None
        return label(text, node)

    def entity(self, entity: str | None) -> str:
        if not entity or entity not in self.p.entities.names():
            return entity or ""
        return label(self.p.entities.get(entity).model.label, entity)

    def record(self, entity: str | None, record_id: int | None) -> str:
        if not entity or not record_id:
            return ""
        key = (entity, int(record_id))
        if key not in self._titles:
            title = f"#{record_id}"
            try:
                model = self.p.entities.get(entity).model
                found = self.p.records(entity, self.user).get(int(record_id))
                if model.title_field and found.get(model.title_field):
                    title = str(found[model.title_field])
            except (NotFound, PermissionDenied, KeyError):
                pass
            self._titles[key] = title
        return self._titles[key]

    def role(self, name: str | None) -> str:
        if not name:
            return ""
        if self._roles is None:
            self._roles = self.p.access(self.user).table.roles
        return label((self._roles.get(name) or {}).get("label"), name)

    def person(self, name: str | None) -> str:
        if not name:
            return ""
        found = self.p.users.find(name)
        return str((found or {}).get("label") or name)


def _about(names: _Names, instance: dict[str, Any]) -> dict[str, Any]:
    entity, record_id = instance.get("entity"), instance.get("record_id")
    return {
        "instance_id": instance["id"],
        "flow": names.flow(instance["flow"], instance.get("flow_version")),
        "entity": entity,
        "entity_label": names.entity(entity),
        "record_id": record_id,
        "record": names.record(entity, record_id),
        "record_url": f"/app/{entity}/{record_id}" if entity and record_id else None,
        "started_by": names.person(instance.get("started_by")),
        "started_on": instance.get("started_on"),
        "status": instance.get("status"),
    }


@blueprint.get("/tasks")
def inbox() -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    p = platform_of()
    user = g.user
    names = _Names(user)
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "todo"
    roles = p.users.get(user)["roles"]
    todo = []
    instances: dict[int, dict[str, Any]] = {}
    for task in p.flows.tasks(user=user, roles=roles):
        if task["instance_id"] not in instances:
            instances[task["instance_id"]] = p.flows.instance(task["instance_id"], history=False)
        instance = instances[task["instance_id"]]
        todo.append(
            {
                **_about(names, instance),
                "id": task["id"],
                "kind": task["kind"],
                "step": label(task.get("label"), "")
                or names.node(instance["flow"], instance.get("flow_version"), task["node"]),
                "outcomes": task["outcomes"],
                "role": names.role(task.get("role")),
                "created_on": task["created_on"],
                "due_on": task.get("due_on"),
                "returnable": task["kind"] in ("approval", "signer")
                and bool(instance.get("started_by")),
                "comment_required": _comment_rule(names, instance, task),
            }
        )
    cc = [
        {**n, "flow_label": names.flow(n.get("flow"))}
        for n in p.notifications.list(user, kind="cc")
    ]
    notes = p.notifications.list(user, kind="notify")
    requests = [_about(names, i) for i in p.flows.instances(started_by=user)]
    counts = {
        "todo": len(todo),
        "cc": sum(1 for n in cc if n["read_on"] is None),
        "requests": sum(1 for r in requests if r["status"] == "running"),
        "notifications": sum(1 for n in notes if n["read_on"] is None),
    }
    people = [u for u in p.users.directory() if u["name"] != user]
    return render_template(
        "tasks.html",
        tab=tab,
        todo=todo,
        cc=cc,
        requests=requests,
        notes=notes,
        counts=counts,
        people=people,
    )


def _comment_rule(names: _Names, instance: dict[str, Any], task: dict[str, Any]) -> str:
    """The approval node's ``comment_required`` (never, on_reject, always), so the
    decide dialog asks for the comment before the engine refuses a decision without it."""
    if task["kind"] not in RETURNABLE:  # approvals and their added signers
        return "never"
    node = names.spec(instance["flow"], instance.get("flow_version")).nodes.get(task["node"])
    return str(node.config.get("comment_required", "never")) if node else "never"


def _history(names: _Names, instance: dict[str, Any]) -> list[dict[str, Any]]:
    flow, version = instance["flow"], instance.get("flow_version")
    rows = [
        {
            "at": instance["started_on"],
            "kind": "started",
            "actor": names.person(instance.get("started_by")),
            "step": "",
            "data": {},
        }
    ]
    for event in instance.get("history") or []:
        if event["kind"] not in SHOWN:
            continue
        data = dict(event.get("data") or {})
        for key in ("assignee", "to"):
            if data.get(key):
                data[key] = names.person(data[key])
        if data.get("role"):
            data["role"] = names.role(data["role"])
        rows.append(
            {
                "at": event["at"],
                "kind": event["kind"],
                "actor": names.person(event.get("actor")),
                "step": names.node(flow, version, event.get("node")),
                "data": data,
            }
        )
    if instance.get("ended_on") and instance["status"] != "withdrawn":
        rows.append(
            {
                "at": instance["ended_on"],
                "kind": "ended",
                "actor": "",
                "step": "",
                "data": {"status": instance["status"], "outcome": instance.get("outcome")},
            }
        )
    return rows


def _node_text(names: _Names, instance: dict[str, Any], node_id: str) -> str:
    """A node's label, or its type's label for an unnamed start, end or gateway."""
    from engine.flows.registry import node_type

    flow, version = instance["flow"], instance.get("flow_version")
    node = names.spec(flow, version).nodes.get(node_id)
    if (
        node is None
        or node.label
        or node.config.get("label")
        or node.type not in ("start", "end", "exclusive", "parallel", "inclusive")
    ):
        return names.node(flow, version, node_id)
    kind = node_type(node.type, node.version)
    return label(kind.label if kind else None, node.type)


def _steps(names: _Names, instance: dict[str, Any]) -> list[dict[str, Any]]:
    """The path taken, one row per step entered: when, who acted there, the decision, comments.

    A step is a token entering a node (``entered``); decisions (``task_completed``)
    and transfers are attached to the latest entry of their node, so a step
    visited twice (a loop back) shows twice with its own actors.
    """
    rows: list[dict[str, Any]] = []
    latest: dict[str, dict[str, Any]] = {}
    for event in instance.get("history") or []:
        node = event.get("node")
        data = event.get("data") or {}
        if event["kind"] == "entered" and node:
            row = {"node": node, "step": _node_text(names, instance, node), "at": event["at"],
                   "acts": [], "left": None}  # fmt: skip
            rows.append(row)
            latest[node] = row
        elif node in latest and event["kind"] in ("task_completed", "task_transferred"):
            latest[node]["acts"].append(
                {
                    "at": event["at"],
                    "actor": names.person(event.get("actor")),
                    "what": decided_label(data.get("outcome"))
                    if event["kind"] == "task_completed"
                    else gettext("Transferred to %(who)s", who=names.person(data.get("to"))),
                    "comment": data.get("comment"),
                }
            )
        elif node in latest and event["kind"] in ("left", "finished", "terminated"):
            latest[node]["left"] = event["at"]
    live = {t["node"] for t in instance["tokens"] if t["status"] in ("active", "waiting")}
    for row in rows:
        row["current"] = row["node"] in live and row is latest.get(row["node"])
    return rows


def _diagram(names: _Names, instance: dict[str, Any]) -> dict[str, Any]:
    from engine.flows.layout import layout, positioned
    from engine.flows.registry import node_type

    spec = names.spec(instance["flow"], instance.get("flow_version"))
    # The author's own drawing when the flow designer saved one, else a layered layout.
    drawn = positioned(spec) or layout(spec)
    live = {t["node"] for t in instance["tokens"] if t["status"] in ("active", "waiting")}
    entered = {e["node"] for e in instance.get("history") or [] if e["kind"] == "entered"}
    # A token that moved on keeps the edge of its last visit only; each visit's
    # ``entered`` event names the edge it came by.
    taken = {t["via"] for t in instance["tokens"] if t.get("via") is not None} | {
        e["via"] for e in instance.get("history") or [] if e.get("via") is not None
    }
    nodes = []
    for node_id, box in drawn.nodes.items():
        node = spec.nodes[node_id]
        kind = node_type(node.type, node.version)
        state = "current" if node_id in live else "done" if node_id in entered else "pending"
        nodes.append(
            {
                **box,
                "id": node_id,
                "type": node.type,
                "text": _node_text(names, instance, node_id),
                "type_label": label(kind.label if kind else None, node.type),
                "state": state,
            }
        )
    edges = [
        {**e, "taken": e["index"] in taken, "text": label(e["label"], e["outcome"] or "")}
        for e in drawn.edges
    ]
    return {"width": drawn.width, "height": drawn.height, "nodes": nodes, "edges": edges}


@blueprint.get("/flows/instances/<int:instance_id>")
def instance_page(instance_id: int) -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    p = platform_of()
    user = g.user
    instance = p.flows.instance(instance_id)
    entity, record_id = instance.get("entity"), instance.get("record_id")
    roles = set(p.users.get(user)["roles"])
    involved = user == instance.get("started_by") or any(
        t.get("assignee") == user or t.get("role") in roles or t.get("completed_by") == user
        for t in instance["tasks"]
    )
    # Whoever a flow copied in may follow it too.
    involved = involved or bool(p.notifications.list(user, instance=instance_id, limit=1))
    if entity and record_id and not involved:
        with p.db.transaction(write=False) as conn:
            table = p.entities.get(entity).table
            p.access(user).require_row(conn, entity, "read", table, record_id)
    names = _Names(user)
    mine = [
        {
            **t,
            "step": label(t.get("label"), "")
            or names.node(instance["flow"], instance.get("flow_version"), t["node"]),
            "returnable": t["kind"] in ("approval", "signer") and bool(instance.get("started_by")),
        }
        for t in instance["tasks"]
        if t["status"] == "open" and (t.get("assignee") == user or t.get("role") in roles)
    ]
    return render_template(
        "flow_instance.html",
        about=_about(names, instance),
        instance=instance,
        diagram=_diagram(names, instance),
        history=_history(names, instance),
        steps=_steps(names, instance),
        mine=mine,
        can_withdraw=instance["status"] == "running" and instance.get("started_by") == user,
        people=[u for u in p.users.directory() if u["name"] != user],
    )


__all__ = ["blueprint"]

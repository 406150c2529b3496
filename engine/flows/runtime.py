"""Move tokens through a spec inside one transaction: start, signal, cancel.

A :class:`Runtime` is made per step by the service, on the step's
connection. It runs every token it can until each one waits, finishes or
leaves the graph, so a step always ends in a resting state; the service
commits it as one transaction (or rolls all of it back). Hooks that raise
:class:`FlowError` abort the step: nothing of it is kept.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import func, select

from engine.errors import FlowError, error_entry
from engine.flows import statements as stm
from engine.flows.context import Context, open_task
from engine.flows.nodes.approval import Approval
from engine.flows.nodes.base import NodeType, Step
from engine.flows.nodes.gateways import choose_edges
from engine.flows.plans import plan_for
from engine.flows.registry import node_type
from engine.flows.spec import FlowSpec
from engine.flows.steps import commit_instance
from engine.i18n import t

if TYPE_CHECKING:
    from engine.ports import PlatformPort

#: Node entries one step may make before it is taken for a loop that never waits.
MAX_ENTRIES = 10_000


class Runtime:
    """One step of one instance on one connection."""

    def __init__(
        self,
        platform: PlatformPort,
        conn: Any,
        spec: FlowSpec,
        instance: dict[str, Any],
        *,
        now: dt.datetime,
        actor: str | None,
    ) -> None:
        self.platform = platform
        self.conn = conn
        self.spec = spec
        self.instance = instance
        self.now = now
        self.actor = actor
        self._record: dict[str, Any] | None = None
        self._entries = 0
        #: history events of this step, written in one executemany by :meth:`flush`
        self._events: list[dict[str, Any]] = []
        #: token column changes not yet written, by token id (see :meth:`flush_tokens`)
        self._token_changes: dict[int, dict[str, Any]] = {}
        #: tokens this step left waiting: while one is, the instance has a live token
        self._waiting: set[int] = set()
        #: whole rows of the tokens this step changed, by id (see :meth:`flush_tokens`)
        self._tokens: dict[int, dict[str, Any]] = {}
        #: join the token writes of a flush into one statement (tests switch it off)
        self.join_token_writes = True
        #: tokens known to have no open task (the step completed the last one and opened
        #: none since): cancelling or looking for their open tasks needs no statement
        self.no_open_tasks: set[int] = set()
        #: the visit of each token this step saw, by id (a history event names one visit)
        self.visits: dict[int, int] = {}
        #: token columns as stored (read, or written by the last flush) before this
        #: step changed them: a change back to the stored value is not written
        self._stored: dict[int, dict[str, Any]] = {}
        #: leave columns holding their stored value out of token writes (tests switch it off)
        self.skip_unchanged = True
        #: run the common approval step by its plan (:mod:`engine.flows.plans`; tests switch it off)
        self.use_plans = True

    # -- the record --------------------------------------------------------------

    def record(self) -> dict[str, Any] | None:
        if self.instance.get("record_id") is None:
            return None
        if self._record is None:
            self._record = self.platform.records(self.instance["entity"]).get(
                self.instance["record_id"]
            )
        return self._record

    def evaluate(self, text: str) -> Any:
        if not self.instance.get("entity"):
            raise FlowError(
                t(
                    "flow {flow} has no entity to evaluate {text} over",
                    flow=repr(self.spec.name),
                    text=repr(text),
                )
            )
        return self.platform.rules.compile(text, self.instance["entity"])(self.record() or {})

    def update_record(self, changes: dict[str, Any]) -> None:
        if self.instance.get("record_id") is None:
            raise FlowError(
                t("flow {flow} runs without a record to update", flow=repr(self.spec.name))
            )
        # Flows act with the system's rights: the approver need not be allowed to edit
        # the record; who caused the change is in the instance's history.
        self.platform.records(self.instance["entity"]).update(self.instance["record_id"], changes)
        self._record = None

    def create_record(
        self, entity: str, values: dict[str, Any], node: str, token: int
    ) -> dict[str, Any]:
        """Create a record of another entity in this step, with the system's rights."""
        made = self.platform.records(entity).create(values)
        self.log("record_created", node, token, {"entity": entity, "id": made["id"]})
        return made

    def update_related(
        self, field: str, changes: dict[str, Any], node: str, token: int
    ) -> int | None:
        """Update the record the reference ``field`` of the flow's record points to."""
        entity = self.instance.get("entity")
        if not entity or self.instance.get("record_id") is None:
            raise FlowError(
                t("flow {flow} runs without a record to follow", flow=repr(self.spec.name))
            )
        info = self.platform.rules.catalog.fields(entity).get(field)
        if info is None or info.type.kind != "record" or not info.type.entity:
            raise FlowError(
                t(
                    "{field} is not a reference field of {entity}",
                    field=repr(field),
                    entity=repr(entity),
                )
            )
        target = (self.record() or {}).get(field)
        if target is None:
            return None
        self.platform.records(info.type.entity).update(int(target), changes)
        self.log("record_updated", node, token, {"entity": info.type.entity, "id": int(target)})
        return int(target)

    def summarize_related(
        self, field: str, specs: dict[str, dict[str, str]]
    ) -> dict[str, Any] | None:
        """Aggregates over every record of the flow's entity that points where ``field`` does.

        ``specs`` maps a target field to ``{agg: field}`` (``count``, ``sum``, ``avg``,
        ``min``, ``max``; rows whose field is empty are left out). Counting again from
        the stored rows, rather than adding to a running figure, keeps the result right
        when an answer is corrected or the same event is seen twice. None when
        ``field`` is empty.
        """
        entity = self.instance.get("entity")
        target = (self.record() or {}).get(field)
        if not entity or target is None:
            return None
        live = self.platform.entities.get(entity)
        ref = live.model.fields[field]
        out: dict[str, Any] = {}
        for key, spec in specs.items():
            [(agg, of)] = spec.items()
            column = live.table.c[live.model.fields[of].column]
            fn = {
                "count": func.count,
                "sum": func.sum,
                "avg": func.avg,
                "min": func.min,
                "max": func.max,
            }[agg]
            stmt = (
                select(fn(column))
                .select_from(live.table)
                .where(live.table.c[ref.column] == int(target), column.is_not(None))
            )
            value = self.conn.execute(stmt).scalar_one()
            if agg == "avg" and value is not None:
                value = round(Decimal(str(value)), 2)
            out[key] = value
        return out

    def run_ruleset(self, name: str) -> dict[str, Any]:
        """Evaluate a loaded rule set on the record and store what it decides."""
        rules = self.platform.rules
        if name not in rules.rulesets():
            raise FlowError(
                t(
                    "flow {flow} runs rule set {name}, which is not loaded",
                    flow=repr(self.spec.name),
                    name=repr(name),
                )
            )
        result = rules.evaluate(name, self.record() or {})
        target, value = result["target"], result["value"]
        if isinstance(target, str):
            changes = {target: value}
        elif isinstance(value, dict) and value.get("type") == "assign":
            changes = {"team" if value.get("to") == "team" else "owner": value.get("target")}
        elif isinstance(value, dict) and value.get("type") == "set":
            changes = {value["field"]: value["value"]}
        elif isinstance(value, dict):
            changes = dict(value)
        else:
            changes = {}
        if changes:
            self.update_record(changes)
        return changes

    # -- history -----------------------------------------------------------------

    def log(
        self,
        kind: str,
        node: str | None,
        token: int | None,
        data: Any = None,
        *,
        visit: int | None = None,
        via: int | None = None,
    ) -> None:
        """Append a history event; it is written with the step's others by :meth:`flush`.

        ``visit`` is the token's visit (by default the one this step knows);
        ``via`` the edge an entering token came by.
        """
        self._events.append(
            {
                "instance_id": self.instance["id"],
                "at": self.now,
                "kind": kind,
                "node": node,
                "token_id": token,
                "actor": self.actor,
                "data": None if data is None else orjson.dumps(data, default=str).decode(),
                "visit": (self.visits.get(token, 0) if token is not None else 0)
                if visit is None
                else visit,
                "via": via,
            }
        )

    def flush(self) -> None:
        """Write the buffered token changes and history events (one executemany each)."""
        self.flush_tokens()
        if self._events:
            events, self._events = self._events, []
            stm.INSERT_EVENT.run_many(self.conn, events)

    def save(self, read_version: int | None) -> None:
        """End the step: flush, then write the instance's state with its optimistic lock.

        Status, outcome and end time ride on the version bump (one UPDATE), which
        raises :class:`~engine.flows.steps.Stale` when another step committed since
        ``read_version`` was read. ``None`` is an instance this step created: no lock.
        """
        self.flush()
        inst = self.instance
        values = {"status": inst["status"], "outcome": inst.get("outcome"),
                  "ended_on": inst.get("ended_on")}  # fmt: skip
        if read_version is None:
            if inst["status"] != "running" or inst.get("outcome") is not None:
                stm.UPDATE_INSTANCE.run(self.conn, {"b_id": inst["id"], **values})
            return
        commit_instance(self.conn, inst, read_version, values)

    # -- tokens ------------------------------------------------------------------

    def _type(self, node_id: str) -> NodeType:
        node = self.spec.nodes[node_id]
        found = node_type(node.type, node.version)
        if found is None:
            raise FlowError(
                t(
                    "node {node} needs node type {type}, which is not installed",
                    node=repr(node_id),
                    type=node.type_ref,
                ),
                [
                    error_entry(
                        t("install the package that provides {type}", type=node.type_ref),
                        field=node_id,
                    )
                ],
            )
        return found

    @property
    def _has_inclusive(self) -> bool:
        """Whether any node of the spec is an inclusive gateway (only those re-try joins)."""
        return _traits(self.spec)[0]

    @property
    def _single_token(self) -> bool:
        """Whether an instance of the spec never has two live tokens (see :func:`_traits`)."""
        return _traits(self.spec)[1]

    def _new_token(self, node: str, via: int | None) -> dict[str, Any]:
        values = {
            "instance_id": self.instance["id"],
            "node": node,
            "via": via,
            "status": "active",
            "state": None,
            "created_on": self.now,
            "visit": 0,
        }
        token_id = stm.INSERT_TOKEN.insert_id(self.conn, values)
        self.visits[token_id] = 0
        return {"id": token_id, **values}

    def _set_token(self, token: dict[str, Any], **values: Any) -> None:
        """Change token columns; written before the next token read or at the step's end."""
        stored = self._stored.setdefault(token["id"], {})
        for key in values:
            if key not in stored:
                stored[key] = token.get(key)
        token.update(values)
        self._tokens[token["id"]] = token
        self._token_changes.setdefault(token["id"], {}).update(values)
        if values.get("status", "waiting") != "waiting":
            self._waiting.discard(token["id"])

    def flush_tokens(self) -> None:
        """Write pending token changes, one executemany per set of changed columns.

        When the step holds the whole row of every changed token (the usual case:
        the token it moved and the one it made), the sets are joined into one:
        a column one token did not change is written with the value it holds,
        which leaves its row as it was and saves a statement.
        """
        if not self._token_changes:
            return
        changes, self._token_changes = self._token_changes, {}
        stored, self._stored = self._stored, {}
        if self.skip_unchanged:
            changes = _changed(changes, stored)
            if not changes:
                return
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for token_id, values in changes.items():
            groups.setdefault(tuple(sorted(values)), []).append({"b_id": token_id, **values})
        if len(groups) > 1 and self.join_token_writes:
            rows = self._joined(changes)
            if rows is not None:
                groups = {(): rows}
        for rows in groups.values():
            stm.UPDATE_TOKEN.run_many(self.conn, rows)

    def _joined(self, changes: dict[int, dict[str, Any]]) -> list[dict[str, Any]] | None:
        """The changes as rows of one column set, or None when a token's row is unknown."""
        keys = sorted({k for values in changes.values() for k in values})
        rows = []
        for token_id, values in changes.items():
            token = self._tokens.get(token_id)
            if token is None:
                return None
            row = {"b_id": token_id}
            for key in keys:
                row[key] = values[key] if key in values else token.get(key)
            rows.append(row)
        return rows

    def load_token(self, token_id: int) -> dict[str, Any]:
        self.flush_tokens()
        row = stm.TOKEN_BY_ID.first(self.conn, {"b_id": token_id})
        if row is None:
            raise FlowError(f"token {token_id} does not exist")
        return row

    # -- steps -------------------------------------------------------------------

    def begin(self) -> None:
        """A new instance: one token on the start node, then run."""
        self.log("started", None, None, {"version": self.instance["flow_version"]})
        (start,) = self.spec.starts()
        self.run([self._new_token(start, None)])
        self.flush()

    def signal(
        self, token_id: int, event: dict[str, Any], token: dict[str, Any] | None = None
    ) -> None:
        """Deliver ``event`` to a waiting token and run what follows.

        ``token`` is the token's row when the caller read it already (with the task).
        """
        if token is None:
            token = self.load_token(token_id)
        if token["status"] != "waiting":
            raise FlowError(f"token {token_id} at {token['node']!r} is not waiting")
        self.visits[token["id"]] = token.get("visit") or 0
        if self.use_plans and self._planned(token, event):
            self.flush()
            return
        ctx = Context(self, self.spec.nodes[token["node"]], token)
        step = self._type(token["node"]).signal(ctx, event)
        self.run(self._apply(step, token, ctx))
        self.flush()

    def _planned(self, token: dict[str, Any], event: dict[str, Any]) -> bool:
        """Run the step by its pre-built plan (:mod:`engine.flows.plans`); False: go the general way.

        What the general path does for the same step, in its order:
        ``Approval.signal`` (no state, no open task left, no timeout: nothing to
        cancel) routes one edge or terminates; ``_apply`` moves the token
        (``moves_on``) or ends the instance; the run loop enters the target,
        whose hook opens the tasks (approval) or finishes (end), or an
        exclusive gateway, which ends the token and sends a new one on by the
        first edge whose condition holds. A step to an approval or an end
        writes the token's final columns in one UPDATE (:meth:`_step_planned`).
        """
        if (
            event.get("type") != "task"
            or event["task"]["kind"] != "approval"
            or token.get("state")
            or token["id"] not in self.no_open_tasks
            or self.instance.get("parent_id") is not None
            or not Approval.moves_on
        ):
            return False
        plan = plan_for(self.spec, token["node"], event["outcome"], _traits(self.spec))
        if plan is None:
            return False
        if plan.action == "terminate":
            self._write_token(token, {"status": "done", "ended_on": self.now})
            self.log("terminated", token["node"], token["id"], {"outcome": "rejected"})
            self.stop("completed", "rejected", others=False)
            return True
        if plan.action != "gateway":
            self._step_planned(token, plan)
            return True
        # entered, the first edge that holds (else the default), the gateway's token
        # ends (a gateway does not move tokens on) and a new one takes the edge
        self._move(token, plan.edge)
        gateway = plan.target
        self._entries += 1
        self.log("entered", gateway.id, token["id"], via=token.get("via"))
        branch = _branch(self, plan)
        self._set_token(token, status="done", ended_on=self.now)
        self.log("left", gateway.id, token["id"], {"to": [branch.edge.target]})
        self._enter_planned(self._new_token(branch.target.id, branch.edge.index), branch)
        return True

    def _step_planned(self, token: dict[str, Any], plan: Any) -> None:
        """Move a waiting token with no state along ``plan.edge`` into an approval or an end.

        The same events as ``_move`` and ``_enter_planned``, and the token's row
        as their ``_set_token`` calls leave it: node, edge, visit and time (its
        status waits again at an approval, its state stays empty), ``done`` at
        an end; one UPDATE with the columns each kind of plan changes.
        """
        self.log("left", token["node"], token["id"], {"to": [plan.edge.target]})
        visit = (token.get("visit") or 0) + 1
        self.visits[token["id"]] = visit
        target = plan.target
        self._entries += 1
        self.log("entered", target.id, token["id"], via=plan.edge.index)
        values = {"node": target.id, "via": plan.edge.index, "visit": visit,
                  "created_on": self.now}  # fmt: skip
        if plan.action == "end":
            values["status"] = "done"
            values["ended_on"] = self.now
            self._write_token(token, values)
            self._finish_planned(token, plan)
            return
        token.update(values)  # the tasks opened next read the token's new visit
        state = self._open_planned(token, plan)
        if state is not None:  # what the approval keeps between enter and signal
            values["state"] = state
        self._write_token(token, values)
        self._waiting.add(token["id"])
        self.log("waiting", target.id, token["id"])  # it was active once it moved

    def _write_token(self, token: dict[str, Any], values: dict[str, Any]) -> None:
        """Write token columns now, bypassing the step's buffer (a plan knows them all)."""
        token.update(values)
        stm.UPDATE_TOKEN.run(self.conn, {"b_id": token["id"], **values})

    def _enter_planned(self, token: dict[str, Any], plan: Any) -> None:
        """Enter ``plan.target`` (an approval or an end) with ``token``, as the run loop would."""
        target = plan.target
        self._entries += 1
        self.log("entered", target.id, token["id"], via=token.get("via"))
        if plan.action == "approval":
            self._wait(token, target.id, self._open_planned(token, plan))
            return
        self._set_token(token, status="done", ended_on=self.now)
        self._finish_planned(token, plan)

    def _open_planned(self, token: dict[str, Any], plan: Any) -> str | None:
        """Open the target approval's tasks as ``Approval.enter`` does; the state it kept."""
        target = plan.target
        if plan.openings is not None:
            for assignee, role in plan.openings:
                open_task(self, token, target.id, "approval", assignee, role, plan.outcomes,
                          plan.label, None)  # fmt: skip
            return None
        ctx = Context(self, target, token)
        self._type(target.id)._assign(ctx, target.config["approvers"], None)
        return orjson.dumps(ctx.state).decode() if ctx.state else None

    def _finish_planned(self, token: dict[str, Any], plan: Any) -> None:
        """An end: the token finished (its row written), and with it the instance (one token)."""
        self.log("finished", plan.target.id, token["id"], {"outcome": plan.end_outcome})
        if plan.end_outcome:
            self.instance["outcome"] = plan.end_outcome
        self._close("completed", self.instance.get("outcome") or "completed")

    def run(self, queue: list[dict[str, Any]]) -> None:
        """Enter each queued token's node until all rest; then re-try inclusive joins."""
        while True:
            while queue:
                token = queue.pop(0)
                if self.instance["status"] != "running":
                    return
                self._entries += 1
                if self._entries > MAX_ENTRIES:
                    raise FlowError(
                        t(
                            "flow {flow} entered {count} nodes in one step; a loop never waits",
                            flow=repr(self.spec.name),
                            count=MAX_ENTRIES,
                        )
                    )
                node = self.spec.nodes[token["node"]]
                self.log("entered", node.id, token["id"], via=token.get("via"))
                ctx = Context(self, node, token)
                queue += self._apply(self._type(node.id).enter(ctx), token, ctx)
            if self.instance["status"] != "running":
                return
            queue = self._joins_to_retry()
            if not queue:
                break
        self._maybe_complete()

    def _joins_to_retry(self) -> list[dict[str, Any]]:
        """Waiting tokens at inclusive joins that could fire now that the others rested."""
        if not self._has_inclusive:
            return []
        self.flush_tokens()
        # read them all first: entering runs more statements
        rows = stm.WAITING_TOKENS_OF.rows(self.conn, {"b_instance": self.instance["id"]})
        for token in rows:
            t = self._type(token["node"])
            if t.gateway != "inclusive":
                continue
            ctx = Context(self, self.spec.nodes[token["node"]], token)
            step = t.enter(ctx)
            if step.action != "wait":
                self._set_token(token, status="active")
                return self._apply(step, token, ctx)
        return []

    def _apply(self, step: Step, token: dict[str, Any], ctx: Context) -> list[dict[str, Any]]:
        """Record what the hook decided; return the new tokens to run."""
        state = orjson.dumps(ctx.state).decode() if ctx.state else None
        node = token["node"]
        if step.action == "wait":
            self._wait(token, node, state)
            return []
        if state != token.get("state"):
            self._set_token(token, state=state)
        if (
            step.action == "proceed"
            and len(step.edges) == 1
            and not step.merged
            and self._type(node).moves_on
        ):
            return [self._move(token, step.edges[0])]
        self._set_token(token, status="done", ended_on=self.now)
        for other in step.merged:
            self._token_changes.setdefault(other, {}).update(status="done", ended_on=self.now)
            self._waiting.discard(other)
        if step.action == "proceed":
            if not step.edges:
                raise FlowError(t("node {node} left by no edge", node=repr(node)))
            self.log("left", node, token["id"], {"to": [e.target for e in step.edges]})
            return [self._new_token(e.target, e.index) for e in step.edges]
        if step.action == "finish":
            self.log("finished", node, token["id"], {"outcome": step.outcome})
            if step.outcome:
                # Kept on the instance (written by save): the last branch to end may
                # not name one.
                self.instance["outcome"] = step.outcome
            return []
        if step.action == "terminate":
            self.log("terminated", node, token["id"], {"outcome": step.outcome})
            self.stop(
                "completed", step.outcome, others=not self._single_token or bool(self._waiting)
            )
            return []
        raise FlowError(f"node {node!r} returned an unknown step {step.action!r}")

    def _wait(self, token: dict[str, Any], node: str, state: str | None) -> None:
        """``token`` rests at ``node`` keeping the hook's ``state`` (JSON text or None)."""
        if state != token.get("state"):
            self._set_token(token, state=state)
        self._waiting.add(token["id"])
        if token["status"] != "waiting":
            self._set_token(token, status="waiting")
            self.log("waiting", node, token["id"])

    def _move(self, token: dict[str, Any], edge: Any) -> dict[str, Any]:
        """Move ``token`` along ``edge`` as a new visit (its node left nothing open).

        What ending it and making a new token at the edge's target would record,
        on the same row: the node, the edge, ``active``, no state, a new visit
        started now. One row written instead of two, and no INSERT.
        """
        self.log("left", token["node"], token["id"], {"to": [edge.target]})
        visit = (token.get("visit") or 0) + 1
        self._set_token(token, node=edge.target, via=edge.index, status="active", state=None,
                        visit=visit, created_on=self.now)  # fmt: skip
        self.visits[token["id"]] = visit
        return token

    def _maybe_complete(self) -> None:
        if self._waiting or self.instance["status"] != "running":
            return  # a token of this step waits: the instance goes on
        if self._single_token:
            # The instance's one token is the one this step moved, and it rests nowhere.
            self._close("completed", self.instance.get("outcome") or "completed")
            return
        self.flush_tokens()
        live = stm.LIVE_TOKEN_OF.first(self.conn, {"b_instance": self.instance["id"]})
        if live is None:
            self._close("completed", self.instance.get("outcome") or "completed")

    def stop(self, status: str, outcome: str | None, *, others: bool = True) -> None:
        """End the instance now: every live token's node is asked to let go first.

        ``others=False``: the caller knows no token is live (a single-token flow
        whose token just ended), so none is looked for.
        """
        self.flush_tokens()
        rows = (
            stm.LIVE_TOKENS_OF.rows(self.conn, {"b_instance": self.instance["id"]})
            if others
            else []
        )
        for token in rows:
            node = self.spec.nodes[token["node"]]
            self._type(node.id).cancel(Context(self, node, token))
            self._set_token(token, status="cancelled", ended_on=self.now)
        self._close(status, outcome)
        self.flush()

    def _close(self, status: str, outcome: str | None) -> None:
        self.instance.update(status=status, outcome=outcome, ended_on=self.now)
        self.log(status, None, None, {"outcome": outcome})
        if self.instance.get("parent_id") is not None:
            # A sub-flow's end must show at once: its parent, woken in this same step,
            # looks for running children. A top-level instance's end rides on save().
            stm.UPDATE_INSTANCE.run(self.conn, {"b_id": self.instance["id"], "status": status,
                                                "outcome": outcome, "ended_on": self.now})  # fmt: skip
            if status != "cancelled":
                self.flush()
                self.platform.flows.child_ended(self.conn, self.instance)

    def start_child(self, name: str, token: dict[str, Any]) -> dict[str, Any]:
        """Start flow ``name`` on this instance's record as a sub-flow of ``token``."""
        return self.platform.flows.begin_instance(
            self.conn,
            name,
            self.instance.get("entity"),
            self.instance.get("record_id"),
            self.actor,
            parent=(self.instance["id"], token["id"]),
        )

    def cancel_children(self, token: dict[str, Any]) -> None:
        flows = self.platform.flows
        for child in flows.children(self.conn, token["id"]):
            flows.cancel_in(self.conn, child, self.actor)


def _branch(runtime: Runtime, plan: Any) -> Any:
    """The branch of a planned exclusive gateway: what ``Exclusive.enter`` would choose."""
    (edge,) = choose_edges(
        [b.edge for b in plan.branches], runtime.evaluate, plan.target.id, first_only=True
    )
    return next(b for b in plan.branches if b.edge is edge)


def _changed(
    changes: dict[int, dict[str, Any]], stored: dict[int, dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """``changes`` without the columns set back to their stored value (and tokens left unchanged).

    A moved token waits again at its next node: its status column would be
    written as it was, an UPDATE term for nothing (and, under the token index of
    earlier versions, which keyed on the status, an index entry rewritten). Tests
    compare the rows with and without this.
    """
    out = {}
    for token_id, values in changes.items():
        before = stored.get(token_id, {})
        kept = {k: v for k, v in values.items() if k not in before or before[k] != v}
        if kept:
            out[token_id] = kept
    return out


#: node types known to leave by the edges of one outcome only (the others may split)
ONE_WAY = ("approval", "task", "subflow")


def _traits(spec: FlowSpec) -> tuple[bool, bool]:
    """(has an inclusive gateway, runs on a single token), worked out once per spec.

    A node can put two tokens in flight only when two of its outgoing edges can
    be taken together: a parallel or inclusive split, or two edges for one
    outcome of an approval, a task or a sub-flow (an exclusive gateway takes
    one edge; another type with more than one outgoing edge may split). A flow
    without such a node has one live token at most, so a step whose token ended
    knows the instance is done without looking for other live tokens.
    """
    found = spec.__dict__.get("_runtime_traits")
    if found is None:
        inclusive = False
        single = True
        for node in spec.nodes.values():
            t = node_type(node.type, node.version)
            inclusive = inclusive or (t is not None and t.gateway == "inclusive")
            edges = spec.outgoing(node.id)
            if len(edges) <= 1 or (t is not None and t.gateway == "exclusive"):
                continue
            outcomes = [e.outcome for e in edges]
            if t is None or t.name not in ONE_WAY or len(set(outcomes)) != len(outcomes):
                single = False
        found = spec.__dict__["_runtime_traits"] = (inclusive, single)
    return found


__all__ = ["MAX_ENTRIES", "Runtime"]

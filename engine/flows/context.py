"""The context a node type's hooks get: the record, rules, tasks, timers and the outbox.

Everything goes through the step's connection, so whatever a hook does
commits or rolls back with the step. Node types never see SQL or the
platform; this is the only surface they may use (see ``nodes/base.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import insert, select

from engine.errors import FlowError
from engine.flows import statements as stm
from engine.flows.spec import EdgeSpec, FlowSpec, NodeSpec
from engine.flows.tables import flow_timers, flow_tokens
from engine.store import outbox

if TYPE_CHECKING:
    from engine.flows.runtime_port import RuntimePort

LIVE = ("active", "waiting")


class Context:
    """One hook call's view of its instance, token and node."""

    def __init__(self, runtime: RuntimePort, node: NodeSpec, token: dict[str, Any]) -> None:
        self.runtime = runtime
        self.spec: FlowSpec = runtime.spec
        self.node = node
        self.token = token
        self.instance = runtime.instance
        self.now: dt.datetime = runtime.now
        self.actor = runtime.actor
        self.state: dict[str, Any] = orjson.loads(token["state"]) if token.get("state") else {}
        runtime.visits[token["id"]] = token.get("visit") or 0

    @property
    def _conn(self) -> Any:
        return self.runtime.conn

    # -- people ---------------------------------------------------------------------

    def manager_of(self, user: str) -> str | None:
        """Who manages ``user`` (the user store), for ``{manager_of: ...}`` assignees."""
        found = self.runtime.platform.users.find(user)
        return None if found is None else found.get("manager")

    # -- the record ---------------------------------------------------------------

    def record(self) -> dict[str, Any] | None:
        """The flow's record as it is now in this transaction (None for a flow without one)."""
        return self.runtime.record()

    def evaluate(self, text: str) -> Any:
        """A rule-language expression over the record (True / False / None, or a value)."""
        return self.runtime.evaluate(text)

    def update_record(self, changes: dict[str, Any]) -> None:
        """Change fields of the record through the record service (validation, audit)."""
        self.runtime.update_record(changes)

    def run_ruleset(self, name: str) -> dict[str, Any]:
        """Run the loaded rule set ``name`` on the record and write its result; returns the changes."""
        return self.runtime.run_ruleset(name)

    def create_record(self, entity: str, values: dict[str, Any]) -> dict[str, Any]:
        """Create a record of ``entity`` through its record service; returns it with its id."""
        return self.runtime.create_record(entity, values, self.node.id, self.token["id"])

    def update_related(self, field: str, changes: dict[str, Any]) -> int | None:
        """Change the record the reference ``field`` points to; None when the field is empty."""
        return self.runtime.update_related(field, changes, self.node.id, self.token["id"])

    def summarize_related(
        self, field: str, specs: dict[str, dict[str, str]]
    ) -> dict[str, Any] | None:
        """Aggregates over the records that share the reference ``field`` (see the runtime)."""
        return self.runtime.summarize_related(field, specs)

    # -- routing ------------------------------------------------------------------

    def outgoing(self, outcome: str | None = None) -> list[EdgeSpec]:
        """Edges marked with ``outcome``, else the unmarked edges (every edge without one)."""
        edges = self.spec.outgoing(self.node.id)
        if outcome is not None:
            marked = [e for e in edges if e.outcome == outcome]
            if marked:
                return marked
        return [e for e in edges if e.outcome is None]

    def waiting_here(self) -> list[dict[str, Any]]:
        """Other tokens of this instance waiting at this node (what a join counts)."""
        self.runtime.flush_tokens()
        rows = self._conn.execute(
            select(flow_tokens)
            .where(
                flow_tokens.c.instance_id == self.instance["id"],
                flow_tokens.c.node == self.node.id,
                flow_tokens.c.status == "waiting",
                flow_tokens.c.id != self.token["id"],
            )
            .order_by(flow_tokens.c.id)
        ).mappings()
        return [dict(r) for r in rows]

    def live_tokens(self) -> list[dict[str, Any]]:
        self.runtime.flush_tokens()
        rows = self._conn.execute(
            select(flow_tokens).where(
                flow_tokens.c.instance_id == self.instance["id"], flow_tokens.c.status.in_(LIVE)
            )
        ).mappings()
        return [dict(r) for r in rows]

    # -- tasks and timers ---------------------------------------------------------

    def create_task(
        self,
        *,
        kind: str,
        assignee: str | None = None,
        role: str | None = None,
        outcomes: tuple[str, ...] = ("done",),
        label: Any = None,
        due: dt.datetime | None = None,
    ) -> int:
        """Open a task for a person (``assignee``) or anyone holding ``role``."""
        return open_task(
            self.runtime,
            self.token,
            self.node.id,
            kind,
            assignee,
            role,
            orjson.dumps(list(outcomes)).decode(),
            None if label is None else orjson.dumps(label).decode(),
            due,
        )

    def tasks(self) -> list[dict[str, Any]]:
        """Every task this token opened at this node (this visit), with its status and outcome."""
        return stm.TASKS_OF_TOKEN.rows(
            self._conn,
            {"b_instance": self.instance["id"], "b_token": self.token["id"],
             "b_visit": self.token.get("visit") or 0},
        )  # fmt: skip

    def open_task(self) -> str | None:
        """The kind of one open task of this token, a signer's first; None when none is open.

        What an approval asks after each decision ("is anyone still to sign?"): one
        row, so a 200-person countersign costs the same at its first and last step.
        """
        if self.token["id"] in self.runtime.no_open_tasks:
            return None
        # Only a signer added to the step makes a signer's task (the service notes it in
        # the token's state): without one, any open task answers, read in one index probe.
        query = stm.OPEN_TASK_OF_TOKEN if self.state.get("signers") else stm.ANY_OPEN_TASK_OF_TOKEN
        found = query.first(
            self._conn, {"b_instance": self.instance["id"], "b_token": self.token["id"]}
        )
        return None if found is None else found["kind"]

    def cancel_tasks(self) -> None:
        """Withdraw this token's open tasks (another approver decided, the instance ended)."""
        if self.token["id"] in self.runtime.no_open_tasks:
            return  # the step completed the token's last open task
        stm.CANCEL_TASKS_OF_TOKEN.run(
            self._conn,
            {"b_instance": self.instance["id"], "b_token": self.token["id"], "b_now": self.now},
        )

    def start_timer(self, due: dt.datetime) -> int:
        timer_id = self._conn.execute(
            insert(flow_timers).values(
                instance_id=self.instance["id"],
                token_id=self.token["id"],
                node=self.node.id,
                due_on=due,
                status="pending",
            )
        ).inserted_primary_key[0]
        self.runtime.log("timer_set", self.node.id, self.token["id"], {"due": due.isoformat()})
        return timer_id

    def cancel_timers(self) -> None:
        stm.CANCEL_TIMERS_OF_TOKEN.run(self._conn, {"b_token": self.token["id"]})

    # -- sub-flows ----------------------------------------------------------------

    def start_subflow(self, name: str) -> dict[str, Any]:
        """Start flow ``name`` on this record; returns the child instance (it may have ended)."""
        child = self.runtime.start_child(name, self.token)
        self.runtime.log(
            "subflow_started", self.node.id, self.token["id"], {"instance": child["id"]}
        )
        return child

    def cancel_subflows(self) -> None:
        """Cancel the running sub-flows this token waits for."""
        self.runtime.cancel_children(self.token)

    # -- effects ------------------------------------------------------------------

    def enqueue(self, kind: str, payload: dict[str, Any], key: str) -> None:
        """Hand an effect to the outbox in this transaction (idempotent by ``key``)."""
        outbox.enqueue(self._conn, kind, payload, now=self.now, key=key)

    def answer_link(self, form: str) -> str:
        """The path of a new one-time link to answer the flow's record on the web form ``form``.

        Issued in this step's transaction, so a rolled-back step leaves no open link.
        """
        from engine.webforms import links

        platform = self.runtime.platform
        definition = platform.webforms.answer_form(form)
        record_id = self.instance.get("record_id")
        if definition.get("entity") != self.spec.entity or record_id is None:
            raise FlowError(
                f"node {self.node.id!r}: web form {form!r} answers {definition.get('entity')!r} "
                f"records, not this flow's {self.spec.entity!r}"
            )
        link = links.issue(self._conn, form, int(record_id), self.now, links.lifetime(definition))
        return link.path


def open_task(
    runtime: RuntimePort,
    token: dict[str, Any],
    node: str,
    kind: str,
    assignee: str | None,
    role: str | None,
    outcomes: str,
    label: str | None,
    due: dt.datetime | None,
) -> int:
    """Insert an open task of ``token`` at ``node`` and log ``task_created``; its id.

    ``outcomes`` and ``label`` come as their stored JSON text: a step plan
    (``engine/flows/plans.py``) dumps them once per flow version, a hook's
    :meth:`Context.create_task` per call.
    """
    runtime.no_open_tasks.discard(token["id"])
    task_id = stm.INSERT_TASK.insert_id(
        runtime.conn,
        {
            "instance_id": runtime.instance["id"],
            "token_id": token["id"],
            "node": node,
            "kind": kind,
            "label": label,
            "assignee": assignee,
            "role": role,
            "outcomes": outcomes,
            "status": "open",
            "created_on": runtime.now,
            "due_on": due,
            "version": 1,
            "visit": token.get("visit") or 0,
        },
    )
    runtime.log("task_created", node, token["id"],
                {"task": task_id, "assignee": assignee, "role": role})  # fmt: skip
    return task_id

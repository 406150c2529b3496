"""``p.flows``: start instances, list and complete tasks, cancel, fire due timers.

Each call is one step: one transaction, idempotent by ``command_id`` and
guarded by the instance's optimistic lock (see ``steps.py``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import and_, bindparam, insert, literal_column, or_, select, update

from engine.errors import (
    AlreadyRunning,
    ConflictError,
    FlowError,
    NotFound,
    PermissionDenied,
    TesseraError,
    ValidationError,
    error_entry,
)
from engine.flows import statements as stm
from engine.flows.fastsql import Fixed
from engine.flows.nodes.approval import comment_needed
from engine.flows.runtime import Runtime
from engine.flows.spec import FlowSpec, parse_flow
from engine.flows.steps import Stale, commit_instance, instance_row, run_step
from engine.flows.tables import (
    flow_events,
    flow_instances,
    flow_tasks,
    flow_timers,
    flow_tokens,
    migrate,
)
from engine.i18n import t

if TYPE_CHECKING:
    from engine.ports import PlatformPort

#: the open status as SQL text, which the open-task indexes' condition names
OPEN_SQL = literal_column("'open'")

log = logging.getLogger("tessera.flows")


#: Task kinds an approver may return to the initiator (``outcome: return``).
RETURNABLE = ("approval", "signer")


def _task_view(row: Any) -> dict[str, Any]:
    """A task row as callers see it: a dict, its outcomes and label parsed."""
    return _parsed(dict(row))


def _parsed(task: dict[str, Any]) -> dict[str, Any]:
    """:func:`_task_view` in place, for a dict the caller made (a fixed read's row)."""
    task["outcomes"] = orjson.loads(task["outcomes"])
    label = task["label"]
    task["label"] = orjson.loads(label) if label else None
    return task


class FlowService:
    """The flow engine of one platform."""

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self._specs: dict[tuple[str, int], FlowSpec] = {}
        with platform.db.transaction(write=True) as conn:
            migrate(conn)  # a database made before the flow indexes changed

    # -- definitions ----------------------------------------------------------------

    def publish(self, definition: dict[str, Any], *, user: str | None = None) -> int:
        """Validate and publish a definition as a new immutable version; returns its number.

        Raises BundleError listing every problem (each names the node and the rule).
        """
        return self.platform.meta.save("flow", definition["name"], definition, user=user)

    def spec(self, name: str, version: int | None = None) -> tuple[FlowSpec, int]:
        """The spec of ``name`` at ``version`` (the live one when None) and that version."""
        if version is not None and (name, version) in self._specs:
            return self._specs[(name, version)], version  # versions never change
        with self.platform.db.transaction(write=False) as conn:
            if version is None:
                found = self.platform.repo.current(conn, "flow", name)
                if found is None:
                    raise NotFound(
                        t("no flow named {name}", name=repr(name)),
                        [error_entry(t("no flow named {name}", name=repr(name)))],
                    )
                version = found[1]
            key = (name, version)
            if key not in self._specs:
                definition = self.platform.repo.definition(conn, "flow", name, version)
                if definition is None:
                    raise NotFound(
                        t("flow {name} has no version {version}", name=repr(name), version=version)
                    )
                self._specs[key] = parse_flow(definition)[0]
        return self._specs[key], version

    # -- steps ----------------------------------------------------------------------

    def _runtime(
        self,
        conn: Any,
        instance: dict[str, Any],
        actor: str | None,
        now: dt.datetime | None = None,
    ) -> Runtime:
        """A runtime for one step; ``now`` is the step's time when the caller took it already."""
        spec, _ = self.spec(instance["flow"], instance["flow_version"])
        if spec.hash != instance["flow_hash"]:
            raise FlowError(f"flow {instance['flow']!r} version {instance['flow_version']} changed")
        return Runtime(
            self.platform, conn, spec, instance, now=now or self.platform.clock.now(), actor=actor
        )

    def start(
        self,
        name: str,
        record: tuple[str, int] | None = None,
        *,
        user: str | None = None,
        command_id: str | None = None,
    ) -> dict[str, Any]:
        """Start the live version of flow ``name`` on ``record`` = (entity, id); returns the instance.

        Raises NotFound for an unknown flow or record, FlowError when the record
        is of another entity than the flow's or a node cannot run, AlreadyRunning
        (a ConflictError) when the flow already runs on the record.
        """
        entity, record_id = record if record is not None else (None, None)

        def body(conn: Any) -> dict[str, Any]:
            instance = self.begin_instance(conn, name, entity, record_id, user)
            return {
                "instance_id": instance["id"],
                "status": instance["status"],
                "outcome": instance.get("outcome"),
            }

        result = run_step(self.platform, command_id, "start", body)
        return self.instance(result["instance_id"], history=False)

    def begin_instance(
        self,
        conn: Any,
        name: str,
        entity: str | None,
        record_id: int | None,
        user: str | None,
        parent: tuple[int, int] | None = None,
    ) -> dict[str, Any]:
        """Create an instance of the live version of ``name`` on ``conn`` and run it until it rests.

        ``parent`` is (instance id, token id) for a sub-flow. Raises NotFound
        for an unknown flow or record, FlowError for a record of another entity.
        """
        spec, version = self.spec(name)
        if spec.entity and entity != spec.entity:
            raise FlowError(
                t(
                    "flow {name} runs on {flow_entity} records, not {entity}",
                    name=repr(name),
                    flow_entity=repr(spec.entity),
                    entity=repr(entity),
                ),
                [
                    error_entry(
                        t("give record=({entity}, id)", entity=repr(spec.entity)), field="record"
                    )
                ],
            )
        if record_id is not None:
            self._lock_record(conn, entity, int(record_id))
            if parent is None:
                self._refuse_a_second(conn, name, entity, int(record_id))
        values = {
            "flow": name,
            "flow_version": version,
            "flow_hash": spec.hash,
            "entity": entity,
            "record_id": record_id,
            "status": "running",
            "started_by": user,
            "started_on": self.platform.clock.now(),
            "parent_id": parent[0] if parent else None,
            "parent_token_id": parent[1] if parent else None,
            "version": 1,
        }
        new_id = conn.execute(insert(flow_instances).values(values)).inserted_primary_key[0]
        instance = {"id": new_id, **values}
        runtime = self._runtime(conn, instance, user)
        runtime.begin()
        runtime.save(None)
        return instance

    def _lock_record(self, conn: Any, entity: str, record_id: int) -> None:
        """Lock the record's row (``FOR UPDATE``; SQLite writes are serial anyway), or
        NotFound: two starts on one record at once wait for each other, so the second
        sees the first's instance (:meth:`_refuse_a_second`)."""
        table = self.platform.entities.get(entity).table
        found = conn.execute(
            select(table.c.id).where(table.c.id == record_id).with_for_update()
        ).first()
        if found is None:
            text = t("{entity} {id} does not exist", entity=entity, id=record_id)
            raise NotFound(text, [error_entry(text, field="record")])

    def _refuse_a_second(self, conn: Any, name: str, entity: str, record_id: int) -> None:
        """Raise AlreadyRunning when ``name`` already runs on the record (not as a sub-flow):
        two approvals of one flow on one record would ask the same people twice and race
        to write the outcome. The record's row is locked (:meth:`_lock_record`)."""
        running = conn.execute(
            running_on(entity, record_id).where(flow_instances.c.flow == name).limit(1)
        ).scalar()
        if running is not None:
            text = t(
                "flow {name} already runs on this record: instance {id}", name=name, id=running
            )
            raise AlreadyRunning(text, [error_entry(text, field="flow")])

    def _require_comment(self, instance: dict[str, Any], node: str, outcome: str) -> None:
        """Raise ValidationError when the approval node's ``comment_required`` asks a
        comment of ``outcome``: a rejection without its reason tells the requester nothing."""
        spec, _ = self.spec(instance["flow"], instance["flow_version"])
        found = spec.nodes.get(node)
        if found is None or not comment_needed(found.config, outcome):
            return
        if outcome in ("reject", "return"):
            text = t("a comment is required to reject")
        else:
            text = t("a comment is required for this decision")
        raise ValidationError(text, [error_entry(text, field="comment")])

    def child_ended(self, conn: Any, child: dict[str, Any]) -> None:
        """A sub-flow ended: wake the parent token that waits for it, in the same transaction."""
        parent = instance_row(conn, child["parent_id"])
        if parent["status"] != "running":
            return
        token = conn.execute(
            select(flow_tokens.c.status).where(flow_tokens.c.id == child["parent_token_id"])
        ).scalar()
        if token != "waiting":
            return  # the sub-flow finished while its parent node was still entering it
        read_version = parent["version"]
        event = {"type": "subflow", "instance": child["id"], "status": child["status"],
                 "outcome": child.get("outcome")}  # fmt: skip
        runtime = self._runtime(conn, parent, None)
        runtime.signal(child["parent_token_id"], event)
        runtime.save(read_version)

    def children(self, conn: Any, token_id: int) -> list[int]:
        """Running sub-flow instances a token waits for."""
        rows = conn.execute(
            select(flow_instances.c.id).where(
                flow_instances.c.parent_token_id == token_id, flow_instances.c.status == "running"
            )
        )
        return [r.id for r in rows]

    def cancel_in(self, conn: Any, instance_id: int, user: str | None) -> None:
        """Cancel a running instance inside the caller's transaction (a parent cancelling a child)."""
        instance = instance_row(conn, instance_id)
        if instance["status"] == "running":
            read_version = instance["version"]
            runtime = self._runtime(conn, instance, user)
            runtime.stop("cancelled", "cancelled")
            runtime.save(read_version)

    def record_changed(
        self,
        entity: str,
        event: str,
        record: dict[str, Any],
        *,
        old: dict[str, Any] | None = None,
        user: str | None = None,
    ) -> list[int]:
        """Start every live flow whose trigger fires on this record event; returns the instances.

        ``event`` is created, updated or deleted (a trigger may list several); its
        ``when`` sees the record and, for an update, ``old``. The record service
        calls this after a write commits (``Platform.record_written``); each start
        is its own step.
        """
        started = []
        for name, definition in self.platform.flow_triggers().get((entity, event), ()):
            when = (definition.get("trigger") or {}).get("when")
            if when and self.platform.rules.compile(when, entity)(record, old=old) is not True:
                continue
            try:
                started.append(self.start(name, record=(entity, record["id"]), user=user)["id"])
            except AlreadyRunning as exc:
                # Already running on this record: the running instance decides; a save
                # (an edit during an approval) neither fails nor files an incident.
                log.info("flow %s not started again on %s %s: %s", name, entity, record["id"], exc)
            except TesseraError as exc:
                # The write that fired the trigger has committed: refusing it now would tell
                # its author it failed. The start becomes a failed instance an admin sees.
                log.warning("flow %s did not start on %s %s: %s", name, entity, record["id"], exc)
                started.append(self._failed_start(name, entity, record["id"], user, str(exc)))
        return started

    def _failed_start(
        self, name: str, entity: str, record_id: int, user: str | None, message: str
    ) -> int:
        """Keep a trigger's start that could not run as a ``failed`` instance (an incident)."""
        spec, version = self.spec(name)
        now = self.platform.clock.now()
        with self.platform.db.transaction(write=True) as conn:
            new_id = conn.execute(
                insert(flow_instances).values(
                    flow=name,
                    flow_version=version,
                    flow_hash=spec.hash,
                    entity=entity,
                    record_id=record_id,
                    status="failed",
                    started_by=user,
                    started_on=now,
                    ended_on=now,
                    error=message[:2000],
                    version=1,
                )
            ).inserted_primary_key[0]
            conn.execute(
                insert(flow_events).values(
                    instance_id=new_id,
                    at=now,
                    kind="failed",
                    data=orjson.dumps({"error": message}).decode(),
                )
            )
        return new_id

    def tasks(
        self,
        user: str | None = None,
        *,
        roles: list[str] | tuple[str, ...] = (),
        instance: int | None = None,
        status: str | None = "open",
    ) -> list[dict[str, Any]]:
        """Tasks assigned to ``user`` or to one of ``roles`` (all users' when both are empty)."""
        if not roles:
            # an inbox without roles: a fixed statement per filter set, rows as dicts
            wanted = None if status is None else ("open" if status == "open" else "bound")
            read = _inbox_read(wanted, instance is not None, user is not None)
            values = {"b_status": status, "b_instance": instance, "b_user": user}
            with self.platform.db.transaction(write=False) as conn:
                return [_parsed(r) for r in read.rows(conn, values)]
        stmt = select(flow_tasks).order_by(flow_tasks.c.id)
        # 'open' written into the SQL, not bound: a plan made for any value (PostgreSQL's
        # generic plan) could not use the open-task indexes; any other status is bound.
        is_status = flow_tasks.c.status == (OPEN_SQL if status == "open" else status)
        if status is not None:
            stmt = stmt.where(is_status)
        if instance is not None:
            stmt = stmt.where(flow_tasks.c.instance_id == instance)
        clauses = [flow_tasks.c.assignee == user] if user is not None else []
        clauses.append(flow_tasks.c.role.in_(list(roles)))
        if status is not None:
            # the status in each term too: SQLite then reads each term from its
            # open-task index (``ix_flow_task_open_*``, a multi-index OR)
            clauses = [and_(c, is_status) for c in clauses]
        stmt = stmt.where(or_(*clauses))
        with self.platform.db.transaction(write=False) as conn:
            return [_task_view(r) for r in conn.execute(stmt).mappings()]

    def complete(
        self,
        task_id: int,
        outcome: str,
        *,
        user: str | None = None,
        comment: str | None = None,
        command_id: str | None = None,
    ) -> dict[str, Any]:
        """Complete a task with ``outcome`` and run the flow on from it.

        Repeating a call with the same ``command_id`` changes nothing and returns
        the first answer. Raises ConflictError when the task was already
        completed or withdrawn (the loser of two people acting at once gets
        this), PermissionDenied when ``user`` is not the assignee, FlowError
        for an outcome the task does not offer.
        """

        def body(conn: Any) -> dict[str, Any]:
            # The task, its instance and its token in one read.
            parts = stm.TASK_FOR_STEP.first_parts(conn, {"b_id": task_id}, stm.STEP_PREFIXES)
            if parts is None:
                raise NotFound(t("no task {id}", id=task_id))
            task, instance, token, counts = parts
            others_open = counts["open"]
            _parsed(task)  # the read's own dict
            if task["status"] != "open":
                raise _closed(task)
            if user is not None and task["assignee"] is not None and task["assignee"] != user:
                raise PermissionDenied(
                    t(
                        "task {id} is assigned to {assignee}, not {user}",
                        id=task_id,
                        assignee=repr(task["assignee"]),
                        user=repr(user),
                    ),
                    [error_entry(t("only the assignee may complete this task"), field="user")],
                )
            if instance["id"] is None:
                raise NotFound(f"no flow instance {task['instance_id']}")
            # An approver may also send the request back to whoever started it.
            returnable = task["kind"] in RETURNABLE and instance.get("started_by")
            if outcome not in task["outcomes"] and not (outcome == "return" and returnable):
                raise FlowError(
                    t("task {id} has no outcome {outcome}", id=task_id, outcome=repr(outcome)),
                    [
                        error_entry(
                            t("use one of: {outcomes}", outcomes=", ".join(task["outcomes"])),
                            field="outcome",
                        )
                    ],
                )
            if task["kind"] in RETURNABLE and not (comment or "").strip():
                self._require_comment(instance, task["node"], outcome)
            if instance["status"] != "running":
                raise ConflictError(
                    t(
                        "flow instance {id} is {status}; its tasks are closed",
                        id=instance["id"],
                        status=instance["status"],
                    ),
                    [error_entry(instance.get("error") or instance["status"], field="task")],
                )
            read_version = instance["version"]
            now = self.platform.clock.now()
            done = stm.CLOSE_OPEN_TASK.run(
                conn,
                {
                    "b_id": task_id,
                    "b_version": task["version"],
                    "status": "completed",
                    "outcome": outcome,
                    "comment": comment,
                    "completed_by": user,
                    "completed_on": now,
                    "version": task["version"] + 1,
                },
            )
            if done.rowcount != 1:
                raise _closed(_task_view(stm.TASK_BY_ID.first(conn, {"b_id": task_id})))
            # One time for the whole step: the task's completion and the step's events.
            runtime = self._runtime(conn, instance, user, now)
            if not others_open:
                runtime.no_open_tasks.add(task["token_id"])
            runtime.log("task_completed", task["node"], task["token_id"],
                        {"task": task_id, "outcome": outcome, "comment": comment},
                        visit=task["visit"])  # fmt: skip
            # the step's own dict, as completed (nothing below reads the open one)
            task["status"] = "completed"
            task["outcome"] = outcome
            event = {"type": "task", "task": task, "outcome": outcome, "user": user,
                     "comment": comment}  # fmt: skip
            runtime.signal(task["token_id"], event, token if token["id"] is not None else None)
            runtime.save(read_version)
            return {
                "task_id": task_id,
                "outcome": outcome,
                "instance_id": instance["id"],
                "status": instance["status"],
                "instance_outcome": instance.get("outcome"),
            }

        return run_step(self.platform, command_id, "complete", body)

    def cancel(self, instance_id: int, *, user: str | None = None) -> dict[str, Any]:
        """Cancel a running instance: open tasks withdrawn, timers dropped. Raises ConflictError if it ended."""

        def body(conn: Any) -> dict[str, Any]:
            instance = instance_row(conn, instance_id)
            if instance["status"] != "running":
                raise ConflictError(
                    t(
                        "flow instance {id} already ended ({status})",
                        id=instance_id,
                        status=instance["status"],
                    )
                )
            read_version = instance["version"]
            runtime = self._runtime(conn, instance, user)
            runtime.stop("cancelled", "cancelled")
            runtime.save(read_version)
            return {"instance_id": instance_id, "status": "cancelled"}

        run_step(self.platform, None, "cancel", body)
        return self.instance(instance_id, history=False)

    def withdraw(
        self, instance_id: int, *, user: str, command_id: str | None = None
    ) -> dict[str, Any]:
        """The initiator takes a request back: open tasks closed, timers dropped, status
        ``withdrawn``. Only the user who started the instance may; one that ended is a
        ConflictError naming how it ended."""

        def body(conn: Any) -> dict[str, Any]:
            instance = instance_row(conn, instance_id)
            if instance["started_by"] != user:
                raise PermissionDenied(
                    t(
                        "only {user} may withdraw flow instance {id}",
                        user=repr(instance["started_by"]),
                        id=instance_id,
                    ),
                    [error_entry(t("only the initiator may withdraw a request"), field="user")],
                )
            if instance["status"] != "running":
                raise ConflictError(
                    t(
                        "flow instance {id} already ended ({status})",
                        id=instance_id,
                        status=instance["status"],
                    ),
                    [
                        error_entry(
                            t("it ended as {status}", status=instance["status"]), field="instance"
                        )
                    ],
                )
            read_version = instance["version"]
            runtime = self._runtime(conn, instance, user)
            runtime.log("withdrawn", None, None, {"by": user})
            runtime.stop("withdrawn", "withdrawn")
            runtime.save(read_version)
            return {"instance_id": instance_id, "status": "withdrawn"}

        run_step(self.platform, command_id, "withdraw", body)
        return self.instance(instance_id, history=False)

    # -- reassigning and discussing --------------------------------------------------

    def _open_task(self, conn: Any, task_id: int, user: str | None) -> dict[str, Any]:
        row = stm.TASK_BY_ID.first(conn, {"b_id": task_id})
        if row is None:
            raise NotFound(t("no task {id}", id=task_id))
        task = _task_view(row)
        if task["status"] != "open":
            raise _closed(task)
        if user is not None and task["assignee"] is not None and task["assignee"] != user:
            raise PermissionDenied(
                t(
                    "task {id} is assigned to {assignee}, not {user}",
                    id=task_id,
                    assignee=repr(task["assignee"]),
                    user=repr(user),
                ),
                [error_entry(t("only the assignee may pass this task on"), field="user")],
            )
        return task

    def _person(self, name: str) -> str:
        found = self.platform.users.find(name)
        if found is None or not found.get("active", True):
            raise ValidationError(
                t("no active user named {name}", name=repr(name)),
                [error_entry(t("unknown user"), field="to")],
            )
        return str(found["name"])

    def _log(self, conn: Any, instance_id: int, kind: str, task: dict[str, Any] | None,
             user: str | None, data: dict[str, Any]) -> None:  # fmt: skip
        stm.INSERT_EVENT.run(
            conn,
            {
                "instance_id": instance_id,
                "at": self.platform.clock.now(),
                "kind": kind,
                "node": task["node"] if task else None,
                "token_id": task["token_id"] if task else None,
                "actor": user,
                "data": orjson.dumps(data, default=str).decode(),
                "visit": task["visit"] if task else 0,
            },
        )

    def transfer(
        self,
        task_id: int,
        to: str,
        *,
        user: str | None = None,
        comment: str | None = None,
        command_id: str | None = None,
    ) -> dict[str, Any]:
        """Hand an open task to another user (it leaves its role, if it had one).

        Raises ConflictError when the task is no longer open, PermissionDenied
        when ``user`` is not its assignee, ValidationError for an unknown user.
        """
        target = self._person(to)

        def body(conn: Any) -> dict[str, Any]:
            task = self._open_task(conn, task_id, user)
            instance = instance_row(conn, task["instance_id"])
            read_version = instance["version"]
            done = stm.CLOSE_OPEN_TASK.run(
                conn,
                {"b_id": task_id, "b_version": task["version"], "assignee": target,
                 "role": None, "version": task["version"] + 1},
            )  # fmt: skip
            if done.rowcount != 1:
                raise Stale()
            self._log(conn, instance["id"], "task_transferred", task, user,
                      {"task": task_id, "from": task["assignee"] or task["role"], "to": target,
                       "comment": comment})  # fmt: skip
            commit_instance(conn, instance, read_version)
            return {"task_id": task_id, "assignee": target, "instance_id": instance["id"]}

        return run_step(self.platform, command_id, "transfer", body)

    def add_signer(
        self,
        task_id: int,
        to: str,
        *,
        user: str | None = None,
        comment: str | None = None,
        command_id: str | None = None,
    ) -> dict[str, Any]:
        """Ask another user to approve too: a new approval task at the same step.

        The step passes only when every added signer has approved as well (a
        rejection still decides at once). Only for approval tasks.
        """
        target = self._person(to)

        def body(conn: Any) -> dict[str, Any]:
            task = self._open_task(conn, task_id, user)
            if task["kind"] not in RETURNABLE:
                raise FlowError(
                    t("task {id} is not an approval", id=task_id),
                    [error_entry(t("only an approval can get another signer"), field="task")],
                )
            instance = instance_row(conn, task["instance_id"])
            read_version = instance["version"]
            new_id = stm.INSERT_TASK.insert_id(
                conn,
                {
                    "instance_id": instance["id"],
                    "token_id": task["token_id"],
                    "node": task["node"],
                    "kind": "signer",
                    "label": _label_text(task["label"]),
                    "assignee": target,
                    "role": None,
                    "outcomes": orjson.dumps(["approve", "reject"]).decode(),
                    "status": "open",
                    "created_on": self.platform.clock.now(),
                    "due_on": task.get("due_on"),
                    "version": 1,
                    "visit": task["visit"],
                },
            )
            # The approval node reads this to wait for signers (see nodes/approval.py).
            token = stm.TOKEN_BY_ID.first(conn, {"b_id": task["token_id"]})
            assert token is not None, task  # a task's token is never deleted
            state = orjson.loads(token["state"]) if token["state"] else {}
            if not state.get("signers"):
                state["signers"] = True
                stm.UPDATE_TOKEN.run(
                    conn, {"b_id": task["token_id"], "state": orjson.dumps(state).decode()}
                )
            self._log(conn, instance["id"], "signer_added", task, user,
                      {"task": new_id, "for": task_id, "assignee": target,
                       "comment": comment})  # fmt: skip
            commit_instance(conn, instance, read_version)
            return {"task_id": new_id, "assignee": target, "instance_id": instance["id"]}

        return run_step(self.platform, command_id, "add_signer", body)

    def comment(self, instance_id: int, text: str, *, user: str | None = None) -> dict[str, Any]:
        """Add a comment to an instance's history (no decision)."""
        text = (text or "").strip()
        if not text:
            raise ValidationError(
                t("a comment needs some text"),
                [error_entry(t("write something"), field="comment")],
            )

        def body(conn: Any) -> dict[str, Any]:
            instance = instance_row(conn, instance_id)
            self._log(conn, instance_id, "comment", None, user, {"comment": text[:4000]})
            return {"instance_id": instance["id"], "comment": text[:4000]}

        return run_step(self.platform, None, "comment", body)

    def tick(self, now: dt.datetime | None = None) -> int:
        """Fire every timer due at ``now`` (the platform clock's now by default); returns how many.

        Each timer fires in its own transaction; a timer whose node fails marks
        its instance ``failed`` with the error (an incident an admin can see)
        and the others still fire.
        """
        now = now or self.platform.clock.now()
        with self.platform.db.transaction(write=False) as conn:
            due = [
                dict(r)
                for r in conn.execute(
                    select(flow_timers)
                    .where(flow_timers.c.status == "pending", flow_timers.c.due_on <= now)
                    .order_by(flow_timers.c.due_on, flow_timers.c.id)
                ).mappings()
            ]
        fired = 0
        for timer in due:
            try:
                if run_step(
                    self.platform, None, "timer", lambda conn, t=timer: self._fire(conn, t)
                ):
                    fired += 1
            except (FlowError, ValidationError) as exc:
                self._fail(timer["instance_id"], str(exc))
        return fired

    def _fire(self, conn: Any, timer: dict[str, Any]) -> dict[str, Any] | None:
        taken = conn.execute(
            update(flow_timers)
            .where(flow_timers.c.id == timer["id"], flow_timers.c.status == "pending")
            .values(status="fired")
        )
        if taken.rowcount != 1:
            return None  # another runner fired it, or its token moved on
        instance = instance_row(conn, timer["instance_id"])
        if instance["status"] != "running":
            return None
        read_version = instance["version"]
        runtime = self._runtime(conn, instance, None)
        token = runtime.load_token(timer["token_id"])
        runtime.log("timer_fired", timer["node"], timer["token_id"], {"timer": timer["id"]},
                    visit=token.get("visit") or 0)  # fmt: skip
        runtime.signal(timer["token_id"], {"type": "timer", "timer": timer["id"]}, token)
        runtime.save(read_version)
        return {"instance_id": instance["id"], "timer": timer["id"]}

    def _fail(self, instance_id: int, message: str) -> None:
        with self.platform.db.transaction(write=True) as conn:
            conn.execute(
                update(flow_instances)
                .where(flow_instances.c.id == instance_id, flow_instances.c.status == "running")
                .values(status="failed", error=message[:2000], version=flow_instances.c.version + 1)
            )
            conn.execute(
                insert(flow_events).values(
                    instance_id=instance_id, at=self.platform.clock.now(), kind="failed",
                    data=orjson.dumps({"error": message}).decode(),
                )
            )  # fmt: skip

    # -- reading --------------------------------------------------------------------

    def instance(self, instance_id: int, *, history: bool = True) -> dict[str, Any]:
        """The instance with its tokens, tasks and (``history``) every event, oldest first."""
        with self.platform.db.transaction(write=False) as conn:
            out = instance_row(conn, instance_id)
            out["tokens"] = [
                dict(r)
                for r in conn.execute(
                    select(flow_tokens)
                    .where(flow_tokens.c.instance_id == instance_id)
                    .order_by(flow_tokens.c.id)
                ).mappings()
            ]
            out["tasks"] = [
                _task_view(r)
                for r in conn.execute(
                    select(flow_tasks)
                    .where(flow_tasks.c.instance_id == instance_id)
                    .order_by(flow_tasks.c.id)
                ).mappings()
            ]
            if history:
                out["history"] = [
                    {**dict(r), "data": orjson.loads(r["data"]) if r["data"] else None}
                    for r in conn.execute(
                        select(flow_events)
                        .where(flow_events.c.instance_id == instance_id)
                        .order_by(flow_events.c.id)
                    ).mappings()
                ]
        return out

    def instances(
        self, *, started_by: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Instances, newest first: those ``started_by`` a user ("my requests"), of a ``status``."""
        stmt = select(flow_instances).order_by(flow_instances.c.id.desc()).limit(limit)
        if started_by is not None:
            stmt = stmt.where(flow_instances.c.started_by == started_by)
        if status is not None:
            stmt = stmt.where(flow_instances.c.status == status)
        with self.platform.db.transaction(write=False) as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def invalidate(self) -> None:
        """Published versions never change, so only a re-created database empties this."""
        self._specs.clear()


def running_on(entity: str, record_id: int) -> Any:
    """SELECT (id, flow) of the instances running on a record, sub-flows' aside: what
    one-running-instance-per-flow counts (the start's refusal, the record page's offer)."""
    return select(flow_instances.c.id, flow_instances.c.flow).where(
        flow_instances.c.entity == entity,
        flow_instances.c.record_id == record_id,
        flow_instances.c.status == "running",
        flow_instances.c.parent_id.is_(None),
    )


#: :meth:`FlowService.tasks`'s fixed reads without roles, by (status, instance, user) given
_INBOX_READS: dict[tuple[str | None, bool, bool], Fixed] = {}


def _inbox_read(status: str | None, instance: bool, user: bool) -> Fixed:
    """The tasks read for the filters given, the general query's own clauses and order.

    ``status`` is None (any), ``"open"`` (written into the SQL, as the general query
    does, so the open-task indexes serve it) or ``"bound"`` (another status).
    """
    key = (status, instance, user)
    found = _INBOX_READS.get(key)
    if found is None:
        stmt = select(flow_tasks).order_by(flow_tasks.c.id)
        if status is not None:
            wanted = OPEN_SQL if status == "open" else bindparam("b_status")
            stmt = stmt.where(flow_tasks.c.status == wanted)
        if instance:
            stmt = stmt.where(flow_tasks.c.instance_id == bindparam("b_instance"))
        if user:
            stmt = stmt.where(flow_tasks.c.assignee == bindparam("b_user"))
        found = _INBOX_READS[key] = Fixed(stmt)
    return found


def _label_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _closed(task: dict[str, Any]) -> ConflictError:
    if task["status"] == "completed":
        if task.get("completed_by"):
            text = t(
                "task {id} was already completed by {user} ({outcome})",
                id=task["id"],
                user=task["completed_by"],
                outcome=task["outcome"],
            )
        else:
            text = t(
                "task {id} was already completed ({outcome})",
                id=task["id"],
                outcome=task["outcome"],
            )
    else:
        text = t("task {id} was withdrawn ({status})", id=task["id"], status=task["status"])
    return ConflictError(text, [error_entry(text, field="task")])


__all__ = ["FlowService"]

"""The node-type contract: what a plugin declares and which hooks the runtime calls.

A node type is a class. The class attributes describe it to the designer and
to the validator (``config_schema`` is rendered as the node's properties form;
``inputs``/``outputs`` are its degree rules). The runtime calls three hooks,
each inside the step's transaction and each with a :class:`NodeContext`:

``enter(ctx)``
    a token arrives at the node. Return :func:`proceed` (leave now, by the
    given edges), :func:`wait` (stay until a signal: a task was completed, a
    timer fired), :func:`finish` (this token is done: an end node) or
    :func:`terminate` (the whole instance ends, e.g. a rejection with no
    reject edge).
``signal(ctx, event)``
    something the token waits for happened: ``{"type": "task", "task": {...},
    "outcome": "approve"}`` or ``{"type": "timer", "timer": id}``. Same returns.
``cancel(ctx)``
    the token is abandoned (instance cancelled, a sibling won): release
    what ``enter`` took (open tasks, timers).

A node type does no I/O of its own. It reads and writes through the context:
the record, rule-language evaluation, tasks, timers, and the outbox for
anything that leaves the system (mail, webhooks), so a rolled-back step leaves
no trace and a delivery is retried with an idempotency key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from engine.errors import FlowError
from engine.i18n import t

if TYPE_CHECKING:
    from engine.flows.spec import EdgeSpec, FlowSpec, NodeSpec


@dataclass(frozen=True)
class Step:
    """What a hook tells the runtime to do with the token."""

    action: str  # proceed | wait | finish | terminate
    edges: tuple[EdgeSpec, ...] = ()
    outcome: str | None = None
    #: Other tokens waiting at this node that the step consumes (a join).
    merged: tuple[int, ...] = ()


def proceed(*edges: EdgeSpec, merged: tuple[int, ...] = ()) -> Step:
    """Leave the node by ``edges`` (one new token each)."""
    return Step("proceed", tuple(edges), merged=merged)


def wait() -> Step:
    """Stay at the node until a signal arrives."""
    return Step("wait")


def finish(outcome: str | None = None) -> Step:
    """This token is done; the instance completes when no live token is left."""
    return Step("finish", outcome=outcome)


def terminate(outcome: str) -> Step:
    """End the whole instance now with ``outcome`` (other tokens are cancelled)."""
    return Step("terminate", outcome=outcome)


class NodeContext(Protocol):
    """What a hook may use; the runtime provides it (see ``engine/flows/context.py``)."""

    spec: FlowSpec
    node: NodeSpec
    now: dt.datetime
    actor: str | None
    instance: dict[str, Any]
    token: dict[str, Any]
    state: dict[str, Any]

    def record(self) -> dict[str, Any] | None: ...
    def evaluate(self, text: str) -> Any: ...
    def outgoing(self, outcome: str | None = None) -> list[EdgeSpec]: ...
    def update_record(self, changes: dict[str, Any]) -> None: ...
    def run_ruleset(self, name: str) -> dict[str, Any]: ...
    def create_record(self, entity: str, values: dict[str, Any]) -> dict[str, Any]: ...
    def update_related(self, field: str, changes: dict[str, Any]) -> int | None: ...
    def create_task(
        self,
        *,
        kind: str,
        assignee: str | None = None,
        role: str | None = None,
        outcomes: tuple[str, ...] = ("done",),
        label: Any = None,
        due: dt.datetime | None = None,
    ) -> int: ...
    def tasks(self) -> list[dict[str, Any]]: ...
    def open_task(self) -> str | None: ...
    def cancel_tasks(self) -> None: ...
    def start_timer(self, due: dt.datetime) -> int: ...
    def cancel_timers(self) -> None: ...
    def enqueue(self, kind: str, payload: dict[str, Any], key: str) -> None: ...
    def answer_link(self, form: str) -> str: ...
    def start_subflow(self, name: str) -> dict[str, Any]: ...
    def cancel_subflows(self) -> None: ...
    def waiting_here(self) -> list[dict[str, Any]]: ...
    def live_tokens(self) -> list[dict[str, Any]]: ...


@dataclass
class ValidationTools:
    """What ``validate`` may use: the flow's entity fields and the rule checker.

    ``check_expression(text, boolean)`` returns the problems of one
    rule-language expression over the flow's entity (empty: fine);
    ``fields`` are the entity's field names (empty when the flow has none).
    Node types that write other records ask ``entity_fields(name)`` for the
    field names of another entity (None: no such entity) and
    ``reference(field)`` for the entity a field of the flow's record points
    to (None: not a reference).
    """

    check_expression: Callable[[str, bool], list[str]]
    fields: set[str] = field(default_factory=set)
    entity_fields: Callable[[str], set[str] | None] = lambda _name: None
    reference: Callable[[str], str | None] = lambda _field: None


class NodeType:
    """Base class of every node type: set the class attributes, override the hooks.

    ``name`` and ``version`` together identify the type (``approval@1``);
    ``config_schema`` is the JSON Schema of ``config``; ``inputs`` and
    ``outputs`` are (minimum, maximum) edge counts (``None``: no maximum);
    ``outcomes`` are the words a task completion may carry and outgoing edges
    may name with ``outcome:``; ``conditional`` says whether outgoing edges
    may carry ``when`` conditions (gateways); ``gateway`` tells the graph
    rules what kind of split/join the type is (exclusive, parallel, inclusive).
    """

    name: ClassVar[str] = ""
    version: ClassVar[int] = 1
    label: ClassVar[dict[str, str]] = {}
    config_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {},
    }
    inputs: ClassVar[tuple[int, int | None]] = (1, None)
    outputs: ClassVar[tuple[int, int | None]] = (1, 1)
    outcomes: ClassVar[tuple[str, ...]] = ()
    conditional: ClassVar[bool] = False
    #: Edges may name outcomes the type cannot list in advance (a sub-flow's end outcomes).
    open_outcomes: ClassVar[bool] = False
    gateway: ClassVar[str | None] = None
    #: A token leaving by one edge holds nothing here any more: the type closed its
    #: tasks and timers before it proceeded and started no sub-flow. The runtime then
    #: moves the token to the next node (a new visit, one row written) instead of
    #: ending it and making another; a type that may leave something open keeps False.
    moves_on: ClassVar[bool] = False

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def node_outcomes(self, node: NodeSpec) -> tuple[str, ...]:
        """The outcomes of this node (a human task declares its own in its config)."""
        return self.outcomes

    def validate(self, node: NodeSpec, spec: FlowSpec, tools: ValidationTools) -> list[str]:
        """Problems the config schema cannot express, as sentences (empty: fine)."""
        return []

    def enter(self, ctx: NodeContext) -> Step:
        """A token arrived; by default leave at once by the outgoing edges."""
        return proceed(*ctx.outgoing())

    def signal(self, ctx: NodeContext, event: dict[str, Any]) -> Step:
        """An awaited event happened; types that wait override this."""
        raise FlowError(
            t("node {id!r} ({ref}) does not wait for anything", id=ctx.node.id, ref=self.ref)
        )

    def cancel(self, ctx: NodeContext) -> None:
        """The token is abandoned: drop its open tasks and timers."""
        ctx.cancel_tasks()
        ctx.cancel_timers()


__all__ = [
    "NodeContext",
    "NodeType",
    "Step",
    "ValidationTools",
    "finish",
    "proceed",
    "terminate",
    "wait",
]

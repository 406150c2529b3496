"""What a node's context uses of the step that runs it, declared below both.

``engine.flows.runtime`` builds a :class:`engine.flows.context.Context` for
each node it runs, and the context calls back into that runtime (log, flush,
record changes, sub-flows). Annotating the callbacks with ``Runtime`` made
the context import the module that imports it; :class:`RuntimePort` names
instead only what the context uses, and ``Runtime`` satisfies it by its shape
(``tests/test_ports.py`` holds the two against each other).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.flows.spec import FlowSpec
    from engine.ports import PlatformPort


class RuntimePort(Protocol):
    """One step of one instance on one connection, as the nodes' context sees it."""

    platform: PlatformPort
    conn: Any
    spec: FlowSpec
    instance: dict[str, Any]
    now: dt.datetime
    actor: str | None
    no_open_tasks: set[int]
    visits: dict[int, int]

    def record(self) -> dict[str, Any] | None: ...

    def evaluate(self, text: str) -> Any: ...

    def update_record(self, changes: dict[str, Any]) -> None: ...

    def create_record(
        self, entity: str, values: dict[str, Any], node: str, token: int
    ) -> dict[str, Any]: ...

    def update_related(
        self, field: str, changes: dict[str, Any], node: str, token: int
    ) -> int | None: ...

    def summarize_related(
        self, field: str, specs: dict[str, dict[str, str]]
    ) -> dict[str, Any] | None: ...

    def run_ruleset(self, name: str) -> dict[str, Any]: ...

    def log(
        self,
        kind: str,
        node: str | None,
        token: int | None,
        data: Any = None,
        *,
        visit: int | None = None,
        via: int | None = None,
    ) -> None: ...

    def flush_tokens(self) -> None: ...

    def start_child(self, name: str, token: dict[str, Any]) -> dict[str, Any]: ...

    def cancel_children(self, token: dict[str, Any]) -> None: ...


__all__ = ["RuntimePort"]

"""What the engine's layers use of the platform, declared below them.

``engine.platform`` builds the flow, rule, metadata, job and webform
services, and those services call back into the platform for its database,
clock, entities and sibling services. Annotating those calls with
``Platform`` itself made every such layer import the module that imports it:
one circle through the whole engine. This module declares instead the narrow
:class:`PlatformPort` the layers really use, as a :class:`typing.Protocol`;
``Platform`` satisfies it by its shape and never imports it (dependency
inversion: both the platform and its layers depend on this low module).

Only members that exist on ``Platform``, with the same signatures, belong
here; ``tests/test_ports.py`` holds the two against each other. The types
named below come from modules under the layers (store, clock, metadata
repository, rule and user services), so importing them keeps this module low.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from engine.clock import Clock
    from engine.forms.entity import EntityModel
    from engine.forms.validation import RecordValidator
    from engine.meta.repository import MetaRepository
    from engine.rules.service import RuleService
    from engine.security.users import UserService
    from engine.store.counters import AutonumberSource, IdAllocator
    from engine.store.db import Database
    from engine.store.files import FileStore
    from engine.store.hooks import SaveHook
    from engine.store.lookups import Lookups
    from engine.store.registry import EntityRegistry


class MetaPort(Protocol):
    """The live definitions (``engine.meta.service.MetaService``): read, history, save."""

    def get(self, kind: str, name: str) -> dict[str, Any]: ...

    def versions(self, kind: str, name: str) -> list[dict[str, Any]]: ...

    def save(
        self,
        kind: str,
        name: str,
        definition: dict[str, Any],
        *,
        user: str | None = None,
        base_version: int | None = None,
        note: str | None = None,
    ) -> int: ...


class FlowPort(Protocol):
    """What a running flow asks of the flow engine (``engine.flows.service.FlowService``):
    start a sub-flow and wake its parent, in the caller's transaction."""

    def begin_instance(
        self,
        conn: Connection,
        name: str,
        entity: str | None,
        record_id: int | None,
        user: str | None,
        parent: tuple[int, int] | None = None,
    ) -> dict[str, Any]: ...

    def child_ended(self, conn: Connection, child: dict[str, Any]) -> None: ...


class WebformPort(Protocol):
    """What a flow asks of the public web forms (``engine.webforms.service.WebformService``)."""

    def answer_form(self, name: str) -> dict[str, Any]: ...


@runtime_checkable
class PlatformPort(Protocol):
    """The platform as its record, flow, rule, metadata, job and webform layers see it."""

    db: Database
    clock: Clock
    repo: MetaRepository
    ids: IdAllocator
    entities: EntityRegistry
    meta: MetaPort
    autonumbers: AutonumberSource
    lookups: Lookups

    @property
    def rules(self) -> RuleService: ...

    @property
    def users(self) -> UserService: ...

    @property
    def flows(self) -> FlowPort: ...

    @property
    def save_hook(self) -> SaveHook: ...

    @property
    def webforms(self) -> WebformPort: ...

    @property
    def files(self) -> FileStore: ...

    def records(self, entity: str, user: str | None = None, *, check: bool = True) -> Any: ...

    def validator(self, entity: str) -> RecordValidator: ...

    def user_team(self, user: str | None) -> str | None: ...

    def flow_triggers(self) -> dict[tuple[Any, Any], list[tuple[str, Any]]]: ...

    def metadata_changed(self) -> None: ...

    def defaults(
        self, model: EntityModel, data: dict[str, Any], user: str | None
    ) -> dict[str, Any]: ...

    def access(self, user: str | dict[str, Any]) -> Any: ...

    def record_written(
        self,
        entity: str,
        event: str,
        records: list[dict[str, Any]],
        olds: list[dict[str, Any] | None],
        user: str | None,
    ) -> None: ...

    def where_clause(
        self, entity: str, where: str, table: Any, user: dict[str, Any] | None = None
    ) -> Any: ...

    def webhook_index(self) -> dict[tuple[Any, str], list[str]]: ...


__all__ = ["FlowPort", "MetaPort", "PlatformPort", "WebformPort"]

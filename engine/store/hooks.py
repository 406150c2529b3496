"""The door between the record service and whatever runs on a save (the rule pipeline).

The store is the floor: it must not import the rule engine. It calls a
:class:`SaveHook` the platform hands it instead, twice per write and in the
write's own transaction:

1. ``begin(...)`` before the rows are written: it may change the records
   (computed fields, scores, owners) and may refuse the write by raising
   ``ValidationError``;
2. ``Save.finish(conn)`` after the rows, child rows and audit entry are
   written: it records what ran and queues what must happen after the commit.

``Save.warnings[i]`` are the non-blocking messages for the i-th record.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.engine import Connection


class Save(Protocol):
    """One write in progress, as the hook saw it."""

    warnings: list[list[dict[str, Any]]]

    def finish(self, conn: Connection) -> None:
        """Called after the rows are written, still inside the transaction."""


class SaveHook(Protocol):
    def reads_new_ids(self, entity: str) -> bool:
        """Whether ``begin`` on a create of ``entity`` reads the new records' ids.

        When not, a single create on PostgreSQL takes its id in its own INSERT;
        ``begin`` given records whose id is None gives them ids first
        (``service.assign_ids``) should that change in between."""
        ...

    def begin(
        self,
        conn: Connection,
        service: Any,
        event: str,
        records: list[dict[str, Any]],
        olds: list[dict[str, Any] | None],
        *,
        prefixed: bool,
    ) -> Save:
        """Run what precedes the write; ``records`` hold system fields and may be changed.

        ``event`` is ``created``, ``updated`` or ``deleted``; ``olds`` the
        records before an update or delete (None on create). On a delete
        nothing may change; only ``finish`` has work (triggers). ``prefixed`` asks for error fields such as
        ``[3].close_date`` (a batch) instead of ``close_date``.
        """
        ...


__all__ = ["Save", "SaveHook"]

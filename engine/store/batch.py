"""Bulk actions on chosen records (assign, set fields, delete): all of them, or none.

A list page's bulk action used to be one request per record, so a refusal in
the middle left half the selection changed. Here the whole batch runs in one
transaction through the record service's own ``update`` and ``delete`` (so row
scopes, field permissions, validation, rules, audit and flows are exactly the
single-record ones). Each record runs under a savepoint, so one refusal does not
stop the others from being tried: every refused record is reported with its id
and reason, and then the transaction rolls back. Flows and webhooks a write
schedules run only after the commit, so a refused batch starts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import TesseraError, ValidationError, error_entry

ACTIONS = ("assign", "update", "delete")

#: Most records one request may change: a page of the list at its largest.
MAX_IDS = 500


class BatchRefused(TesseraError):
    """Some records of a bulk action were refused; nothing was changed.

    ``refusals`` pairs each refused record id with the engine's own error for it;
    ``errors`` carries the same, one entry per problem, each with its ``id``.
    """

    default_message = "some records were refused; nothing was changed"

    def __init__(self, refusals: list[tuple[int, TesseraError]], total: int) -> None:
        self.refusals = refusals
        entries = [
            {**entry, "id": record_id} for record_id, exc in refusals for entry in exc.errors
        ]
        super().__init__(
            f"{len(refusals)} of {total} records refused; nothing was changed", entries
        )


def check_request(action: Any, ids: Any, values: Any) -> tuple[str, list[int], dict[str, Any]]:
    """The request's action, ids and values, or a ValidationError naming the bad part."""
    if action not in ACTIONS:
        raise ValidationError(
            f"unknown bulk action {action!r}",
            [error_entry(f"use one of {', '.join(ACTIONS)}", field="action")],
        )
    if not isinstance(ids, list) or not ids:
        raise ValidationError(
            "name the records", [error_entry("a non-empty list of record ids", field="ids")]
        )
    if len(ids) > MAX_IDS:
        raise ValidationError(
            f"at most {MAX_IDS} records per request",
            [error_entry(f"{len(ids)} ids sent", field="ids")],
        )
    for i, rid in enumerate(ids):
        if isinstance(rid, bool) or not isinstance(rid, int) or not 0 < rid < 2**63:
            raise ValidationError(
                "record ids are positive whole numbers",
                [error_entry(f"{rid!r} is not a record id", field=f"ids[{i}]")],
            )
    if len(set(ids)) != len(ids):
        raise ValidationError("each record once", [error_entry("an id is repeated", field="ids")])
    if action == "delete":
        return action, list(ids), {}
    if not isinstance(values, dict) or not values:
        raise ValidationError(
            "say what to change", [error_entry("an object of field values", field="values")]
        )
    if action == "assign" and (set(values) != {"owner"} or not isinstance(values["owner"], str)):
        raise ValidationError(
            "assign takes the new owner only",
            [error_entry('send {"owner": "<user name>"}', field="values")],
        )
    return action, list(ids), dict(values)


def run_batch(
    service: Any,
    action: str,
    ids: list[int],
    values: Mapping[str, Any] | None = None,
    *,
    versions: Mapping[int, int] | None = None,
) -> dict[str, Any]:
    """Apply ``action`` to every record of ``ids`` as ``service``'s user, in one transaction.

    ``versions`` (record id → the version the user saw) makes each change safe against
    a concurrent edit, as a single update's ``version`` does. Returns ``{"done", "ids"}``;
    raises :class:`BatchRefused` (nothing changed) when any record is refused.
    """
    refusals: list[tuple[int, TesseraError]] = []
    with service.platform.db.transaction():
        for record_id in ids:
            try:
                with service.platform.db.savepoint():
                    if action == "delete":
                        service.delete(record_id)
                    else:
                        version = (versions or {}).get(record_id)
                        service.update(record_id, dict(values or {}), version=version)
            except TesseraError as exc:
                refusals.append((record_id, exc))
        if refusals:
            raise BatchRefused(refusals, len(ids))
    return {"done": len(ids), "ids": list(ids)}


__all__ = ["ACTIONS", "MAX_IDS", "BatchRefused", "check_request", "run_batch"]

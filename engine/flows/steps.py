"""The transaction discipline of a flow step: idempotent by command id, optimistic per instance.

Every call of ``p.flows`` that changes something runs through :func:`run_step`:

- a ``command_id`` seen before is answered from the command log and nothing
  runs again (a client may retry a lost response safely);
- the step bumps the instance's ``version`` with a compare-and-set
  (:func:`commit_instance`), so of two steps on one instance only one
  commits; the other is re-run on fresh state, where a task someone else
  completed meanwhile fails with a clear :class:`ConflictError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from engine.errors import ConflictError, NotFound
from engine.flows import statements as stm
from engine.flows.fastsql import Fixed
from engine.flows.tables import flow_commands
from engine.i18n import t

if TYPE_CHECKING:
    from engine.ports import PlatformPort

#: How often a step is re-run when another step on the same instance committed first.
RETRIES = 5


#: the stored answer of a command id (none: the command is new)
COMMAND_RESULT = Fixed(
    select(flow_commands.c.result).where(flow_commands.c.command_id == bindparam("b_id"))
)
#: a command's answer, kept for its retries
INSERT_COMMAND = Fixed(insert(flow_commands), by_keys=True)


class Stale(Exception):
    """Another step on the instance committed between our read and our write."""


def stored_answer(platform: PlatformPort, command_id: str | None) -> Any:
    """The stored result of ``command_id``, or None."""
    if command_id is None:
        return None
    with platform.db.transaction(write=False) as conn:
        seen = COMMAND_RESULT.first(conn, {"b_id": command_id})
    return None if seen is None else orjson.loads(seen["result"])


def run_step(
    platform: PlatformPort, command_id: str | None, kind: str, body: Callable[[Any], Any]
) -> Any:
    """Run ``body(conn)`` as one write transaction; see the module docstring.

    ``body`` returns a JSON-ready dict (stored for ``command_id``) or None.
    Raises ConflictError when the instance kept changing under every retry.
    """
    transaction = platform.db.transaction
    for _attempt in range(RETRIES):
        try:
            with transaction(write=True) as conn:
                if command_id is None:
                    return body(conn)
                seen = COMMAND_RESULT.first(conn, {"b_id": command_id})
                if seen is not None:
                    return orjson.loads(seen["result"])
                result = body(conn)
                if result is not None:
                    INSERT_COMMAND.run(
                        conn,
                        {
                            "command_id": command_id,
                            "kind": kind,
                            "instance_id": result.get("instance_id"),
                            "result": orjson.dumps(result, default=str).decode(),
                            "created_on": platform.clock.now(),
                        },
                    )
                return result
        except Stale:
            continue
        except (
            ConflictError,
            IntegrityError,
            platform.db.engine.dialect.loaded_dbapi.IntegrityError,
        ):
            # Lost a race to a call with the same command id: answer as it did. The
            # fixed statements run on the driver's cursor: its IntegrityError too.
            answer = stored_answer(platform, command_id)
            if answer is None:
                raise
            return answer
    raise ConflictError(t("the flow instance kept changing; try again"))


def instance_row(conn: Any, instance_id: int) -> dict[str, Any]:
    """The instance as stored; NotFound when there is none."""
    row = stm.INSTANCE_BY_ID.first(conn, {"b_id": instance_id})
    if row is None:
        raise NotFound(t("no flow instance {id}", id=instance_id))
    return row


def commit_instance(
    conn: Any, instance: dict[str, Any], read_version: int, values: dict[str, Any] | None = None
) -> None:
    """The optimistic lock: bump the version only if nobody else did since we read it.

    ``values`` are other columns of the instance written in the same UPDATE.
    """
    done = stm.BUMP_INSTANCE.run(
        conn,
        {"b_id": instance["id"], "b_read": read_version, "version": read_version + 1,
         **(values or {})},
    )  # fmt: skip
    if done.rowcount != 1:
        raise Stale()
    instance["version"] = read_version + 1


__all__ = [
    "COMMAND_RESULT",
    "INSERT_COMMAND",
    "RETRIES",
    "Stale",
    "commit_instance",
    "instance_row",
    "run_step",
    "stored_answer",
]

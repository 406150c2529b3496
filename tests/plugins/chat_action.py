"""An action written the way a developer outside the project would: post to a chat channel.

docs/developer/actions.md walks through this file. The action does not talk
to the chat service itself: it leaves a ``chat`` message in the outbox, and a
deliverer registered for that kind sends it once the save has committed.
"""

from __future__ import annotations

from typing import Any

from engine.rules.actions import ActionContext, ActionType


def post(ctx: ActionContext, config: dict[str, Any]) -> None:
    ctx.enqueue("chat", {"channel": config["channel"], "text": config["text"]})


CHAT = ActionType(
    name="chat",
    label="Post to a chat channel",
    config_schema={
        "type": "object",
        "required": ["channel", "text"],
        "properties": {
            "channel": {"type": "string", "pattern": "^#"},
            "text": {"type": "string", "maxLength": 2000},
        },
        "additionalProperties": False,
    },
    run=post,
)


def _close(ctx: ActionContext, config: dict[str, Any]) -> None:
    ctx.set("status", "closed")


#: An action that changes the record: inside a save it applies before the write;
#: from a trigger it applies in a follow-up write after the commit.
CLOSE = ActionType(
    name="close_lead",
    label="Close the lead",
    config_schema={"type": "object", "properties": {}, "additionalProperties": False},
    run=_close,
    changes_record=True,
)

"""Timer: wait a duration, then go on. The wait is a row in ``ts_flow_timer``; the job
runner's ``p.flows.tick(now)`` fires it, so a restart loses nothing."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from engine.flows.nodes.base import NodeContext, NodeType, Step, proceed, wait
from engine.i18n import t

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
#: A duration as flows write it: whole numbers of weeks, days, hours, minutes, seconds.
DURATION_PATTERN = "^(?:[0-9]+[wdhms])+$"
_DURATION = re.compile(DURATION_PATTERN)
_PART = re.compile(r"(\d+)([wdhms])")


def parse_duration(text: str) -> dt.timedelta:
    """``"48h"``, ``"1d12h"``, ``"30m"`` → timedelta; ValueError for anything else."""
    if not isinstance(text, str) or not _DURATION.match(text.strip()):
        raise ValueError(t("{text!r} is not a duration such as 30m, 48h or 1d12h", text=text))
    seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(text))
    return dt.timedelta(seconds=seconds)


class Timer(NodeType):
    name = "timer"
    label = {"en": "Timer", "zh-CN": "定时器"}
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["after"],
        "properties": {"after": {"type": "string", "pattern": DURATION_PATTERN}},
    }

    def enter(self, ctx: NodeContext) -> Step:
        ctx.start_timer(ctx.now + parse_duration(ctx.node.config["after"]))
        return wait()

    def signal(self, ctx: NodeContext, event: dict[str, Any]) -> Step:
        if event.get("type") != "timer":
            return super().signal(ctx, event)
        return proceed(*ctx.outgoing())

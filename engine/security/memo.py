"""The users and settings read during one unit of work (a web request).

name -> a user's public attributes, and (name, "settings") -> that user's settings.
One request then reads each user once, however many layers ask (sign-in, the
permission check, the owner's team); a change to users or settings forgets it.
Its own module because both :mod:`engine.security.users` and
:mod:`engine.security.settings` fill and read it.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

remembered: ContextVar[dict[Any, dict[str, Any] | None] | None] = ContextVar(
    "tessera_users_remembered", default=None
)

__all__ = ["remembered"]

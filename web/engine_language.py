"""Hands the request's language to the engine, so its refusals and diagnostics read in it.

The engine words its own messages (``engine.i18n.t``) in the language of a context
variable; this blueprint sets that variable at the start of every request to the
page language (``web.i18n.current_lang``) and puts the previous value back when the
request ends, so a thread that serves the next request starts clean.

The language is read up front, not when the first message is worded: a message is
often worded inside a transaction the database has already failed (a unique value
taken twice on PostgreSQL), where reading the user's saved preference would fail too.
"""

from __future__ import annotations

from contextlib import suppress

from flask import Blueprint, g

from engine.i18n import reset_language, set_language
from web.i18n import current_lang

blueprint = Blueprint("engine_language", __name__)


@blueprint.before_app_request
def _speak_the_request_language() -> None:
    g.engine_language_token = set_language(current_lang())


@blueprint.teardown_app_request
def _forget_the_request_language(_exc: BaseException | None) -> None:
    token = g.pop("engine_language_token", None)
    if token is not None:
        # A token made in another context than this one cannot be reset: nothing to undo.
        with suppress(ValueError):
            reset_language(token)


__all__ = ["blueprint"]

"""The HTTP plumbing every blueprint shares: JSON in and out, problem documents, the platform.

Kept apart from :mod:`web.app` (the factory that assembles the blueprints) so a
blueprint imports what it needs from here and the factory imports the blueprints:
arrows run one way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import orjson
from flask import Flask, Response, request

from engine.errors import (
    BundleError,
    ConflictError,
    MigrationError,
    NotFound,
    PermissionDenied,
    RuleSyntaxError,
    RuleTypeError,
    ValidationError,
)

#: Largest request body accepted (imports will get their own, larger limit).
MAX_BODY = 10 * 1024 * 1024

#: A list's total is counted exactly up to this many rows, then reported as "more than":
#: the API's lists, the list pages and the home page's counts share it.
TOTAL_BOUND = 10_000

#: Engine error class -> HTTP status and title (the first that matches wins).
ERROR_STATUS = [
    (NotFound, 404, "Not found"),
    (PermissionDenied, 403, "Forbidden"),
    (ConflictError, 409, "Conflict"),
    (MigrationError, 409, "Conflicts with stored records"),
    (ValidationError, 422, "Invalid input"),
    (BundleError, 422, "Invalid definition"),
    (RuleSyntaxError, 422, "Rule syntax error"),
    (RuleTypeError, 422, "Rule error"),
]


def _default(value: Any) -> Any:
    """JSON for engine values: decimals as numbers when exact in a double, else as text."""
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value.normalize() else str(value)
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(value), status=status, mimetype="application/json", headers=headers)


def problem(
    status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> Response:
    """An RFC 9457 problem document with the engine's located ``errors`` list."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body["errors"] = errors or []
    return Response(dumps(body), status=status, mimetype="application/problem+json")


def platform_of(app: Flask | None = None) -> Any:
    from flask import current_app

    return (app or current_app).extensions["tessera"]


def model_or_404(entity: str) -> Any:
    """The live model of ``entity`` for a page about it; an unknown entity is a 404 page
    (the pages' answer, where the API's is a problem document)."""
    from flask import abort

    p = platform_of()
    if entity not in p.entities.names():
        abort(404)
    return p.entities.get(entity).model


def safe_next(target: str | None) -> str:
    """A same-site path to go to after a form, never another site (``//host`` or a URL).

    Both the sign-in page (:mod:`web.ui.shell`) and the sign-in post
    (:mod:`web.auth`) redirect with it, so it lives below both."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def body() -> dict[str, Any]:
    """The request's JSON object, or a 400 problem naming what was wrong with it."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError(
            "the body must be a JSON object", [{"field": "body", "message": "send a JSON object"}]
        )
    return data


__all__ = [
    "ERROR_STATUS",
    "MAX_BODY",
    "TOTAL_BOUND",
    "body",
    "dumps",
    "json_response",
    "model_or_404",
    "platform_of",
    "problem",
    "safe_next",
]

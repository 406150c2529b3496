"""Who is calling: bearer tokens for programs, session cookies with CSRF for the browser.

A request carries either ``Authorization: Bearer <token>`` (checked against
the hashed tokens; no cookie, so no CSRF question) or the signed session
cookie set by ``/login``. A cookie-authenticated request that changes
something must echo the session's CSRF token in ``X-CSRF-Token`` (or a
``csrf_token`` form field): another site can make the browser send the
cookie, but cannot read the token.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import Blueprint, Response, g, request, session

from web.http import json_response, platform_of, problem, safe_next

auth = Blueprint("auth", __name__)

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def load_user() -> Response | None:
    """Set ``g.user`` (a user name or None) and refuse cross-site writes; runs before each request."""
    g.user = None
    g.via = None
    g.users_memo = platform_of().users.remember()
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = platform_of().users.verify_token(header[7:].strip())
        if user is None:
            return problem(401, "Unauthorized", "the token is unknown, expired or revoked")
        g.user, g.via = user["name"], "token"
        return None
    name = session.get("user")
    if name:
        found = platform_of().users.find(name)
        if found is None or not found["active"]:
            session.clear()
            return None
        g.user, g.via = name, "session"
        if request.method not in _SAFE_METHODS and request.endpoint not in ("auth.login",):
            sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
            expected = session.get("csrf", "")
            if not expected or not hmac.compare_digest(str(sent), str(expected)):
                return problem(403, "Forbidden", "missing or wrong CSRF token")
    return None


def require_user() -> str:
    """The signed-in user's name, or a 401 problem."""
    if g.get("user") is None:
        from werkzeug.exceptions import Unauthorized

        raise Unauthorized("sign in, or send Authorization: Bearer <token>")
    return g.user


def customizing(kind: str) -> Any:
    """The platform, once the signed-in user may customize ``kind`` (a builder's endpoints):
    a 401 problem for no user, a 403 for one who may not."""
    p = platform_of()
    p.access(require_user()).require_customize(kind)
    return p


@auth.post("/login")
def login() -> Response:
    """Form or JSON ``{username, password}``: sets the session cookie, returns the CSRF token."""
    data: dict[str, Any] = request.get_json(silent=True) or request.form.to_dict()
    username, password = str(data.get("username", "")), str(data.get("password", ""))
    user = platform_of().users.authenticate(username, password)
    wants_json = request.is_json
    if user is None:
        if wants_json:
            return problem(401, "Unauthorized", "wrong user name or password (or locked)")
        from flask import render_template

        page = render_template("login.html", failed=username, next=safe_next(data.get("next")))
        return Response(page, status=401, mimetype="text/html")
    lang = session.get("lang")
    session.clear()
    session["user"] = user["name"]
    session["csrf"] = secrets.token_urlsafe(32)
    if lang:  # picked on the sign-in page: an explicit choice, kept as the user's preference
        session["lang"] = lang
        platform_of().users.settings.set(user["name"], "lang", lang)
    if wants_json:
        return json_response({"user": user["name"], "csrf_token": session["csrf"]})
    return Response(status=303, headers={"Location": safe_next(data.get("next"))})


@auth.post("/logout")
def logout() -> Response:
    """Ends the session; a form post (the home page's button) goes back to the sign-in page."""
    session.clear()
    if request.is_json or not request.form:
        return Response(status=204)
    return Response(status=303, headers={"Location": "/login"})


@auth.get("/api/v1/auth/session")
def whoami() -> Response:
    """The signed-in user and the CSRF token the browser app must send with writes."""
    name = require_user()
    user = platform_of().users.get(name)
    return json_response({"user": user, "csrf_token": session.get("csrf")})


@auth.post("/api/v1/auth/token")
def token() -> Response:
    """``{"username", "password"}`` → ``{"token", "expires_at"}`` (the token is shown once)."""
    data = request.get_json(silent=True) or {}
    platform = platform_of()
    user = platform.users.authenticate(str(data.get("username", "")), str(data.get("password", "")))
    if user is None:
        return problem(401, "Unauthorized", "wrong user name or password (or locked)")
    from flask import current_app

    lifetime = current_app.config["TOKEN_LIFETIME"]
    issued = platform.users.create_token(user["name"], label="api", expires_in=lifetime)
    return json_response(
        {"token": issued["token"], "expires_at": platform.clock.now() + lifetime}, status=201
    )


__all__ = ["auth", "load_user", "require_user"]

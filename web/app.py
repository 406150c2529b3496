"""The Flask application: ``create_app(platform)`` serves the REST API and the login page.

Every door goes through the engine's own services as the signed-in user, so
the permission layer decides; this package only turns HTTP into calls and
errors into ``application/problem+json``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException

from engine.errors import TesseraError
from web.http import ERROR_STATUS, platform_of, problem

_HERE = Path(__file__).resolve().parent


def create_app(platform: Any = None, *, config: dict[str, Any] | None = None) -> Flask:
    """The web application over ``platform`` (by default one from ``TESSERA_DATABASE_URL``)."""
    if platform is None:
        from engine.platform import Platform

        platform = Platform()
    app = Flask("tessera", template_folder="templates", root_path=str(_HERE))
    from engine.config import setting

    app.config.update(
        SECRET_KEY=setting("secret_key") or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=setting("secure_cookies"),
        MAX_CONTENT_LENGTH=setting("max_body_mb") * 1024 * 1024,
        TOKEN_LIFETIME=dt.timedelta(days=setting("token_lifetime_days")),
    )
    app.config.update(config or {})
    app.extensions["tessera"] = platform
    app.session_interface = _SessionInterface()

    from web.actions_api import blueprint as actions_api
    from web.api import api
    from web.auth import auth, load_user
    from web.engine_language import blueprint as engine_language
    from web.files_api import blueprint as files_api
    from web.meta_api import blueprint as meta_api
    from web.ops import install, ops
    from web.ui import register as register_pages
    from web.vendor import vendor
    from web.webforms_api import blueprint as webforms_api

    install(app)
    app.before_request(load_user)
    app.register_blueprint(ops)
    app.register_blueprint(auth)
    app.register_blueprint(vendor)
    app.register_blueprint(engine_language)
    register_pages(app)
    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(files_api, url_prefix="/api/v1")
    app.register_blueprint(webforms_api)
    app.register_blueprint(meta_api)
    app.register_blueprint(actions_api)
    from web.report_delivery_api import blueprint as report_delivery_api

    app.register_blueprint(report_delivery_api)  # background runs, e-mail schedules

    @app.teardown_request
    def _forget_users(_exc: BaseException | None) -> None:
        token = g.pop("users_memo", None)
        if token is not None:
            try:
                platform_of().users.forget(token)
            except ValueError:  # ended in another context than it began: just drop it
                platform_of().users.forget()

    @app.errorhandler(TesseraError)
    def _engine_error(exc: TesseraError) -> Response:
        for cls, status, title in ERROR_STATUS:
            if isinstance(exc, cls):
                return _error(status, title, exc.message, exc.errors)
        return _error(400, "Bad request", exc.message, exc.errors)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return _error(exc.code or 500, exc.name, exc.description or exc.name)

    @app.after_request
    def _headers(response: Response) -> Response:
        # One pass over the response's headers, then the missing ones added: four
        # setdefault calls scanned them four times, on every request.
        present = {key.lower() for key, _ in response.headers}
        for key, value in _SECURITY_HEADERS:
            if key.lower() not in present:
                response.headers.add(key, value)
        return response

    return app


#: Headers every response gets unless its view set them.
_SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    # Scripts only from this site; inline style attributes are allowed because the
    # chart library positions its tooltips with them.
    (
        "Content-Security-Policy",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'",
    ),
)


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per key.

    Flask builds it anew for every request (an API call with a token included,
    since the session is opened before anyone knows); the keys rarely change,
    and a change of key (or of the fallback keys) builds a new one.
    """

    _memo: tuple[Any, Any] | None = None

    def get_signing_serializer(self, app: Flask) -> Any:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        memo = self._memo
        if memo is None or memo[0] != keys:
            memo = self._memo = (keys, super().get_signing_serializer(app))
        return memo[1]


def _wants_page() -> bool:
    """A browser asking for a page (not the API, not a script's fetch) gets an HTML error."""
    if request.path.startswith("/api/") or request.is_json:
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def _error(
    status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> Response:
    if not _wants_page():
        return problem(status, title, detail, errors)
    from flask import render_template

    html = render_template(
        "error.html", status=status, title=title, detail=detail, errors=errors or []
    )
    return Response(html, status=status, mimetype="text/html")


__all__ = ["create_app"]

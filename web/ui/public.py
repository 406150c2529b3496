"""Public web forms at ``/f/<name>``: a page for visitors without an account.

There is no session to tie a CSRF token to, so the page carries a *form
token*: the form's name signed with the app's secret and a time stamp, checked
on the way back (``TOKEN_MAX_AGE``). Another site cannot post without first
fetching a page of ours; a bot that does is held back by the honeypot field and
the per-address rate limit (``engine.webforms``). The body is capped at
``MAX_FORM_BODY``; every value is escaped by Jinja2; the answer to a visitor
is the thank-you text only, never the saved record (its score or owner).

A form with ``answers`` is reached only at ``/f/<name>/a/<token>``, the one-time
link a flow handed out (``engine.webforms.links``); it fills in that one record.

The client address is ``request.remote_addr``: behind a reverse proxy, let the
proxy set it (werkzeug's ``ProxyFix``) or every visitor shares one limit.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from engine.errors import NotFound, TesseraError, ValidationError
from engine.webforms.definition import HONEYPOT
from engine.webforms.links import LinkExpired, LinkUsed
from engine.webforms.service import TooManySubmissions
from web.http import platform_of
from web.i18n import LANGS, gettext, label

blueprint = Blueprint("public", __name__)

TOKEN_MAX_AGE = 2 * 60 * 60  # seconds a rendered form stays valid
MAX_FORM_BODY = 64 * 1024  # bytes
_SALT = "tessera-webform"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)  # type: ignore[arg-type]


def form_token(name: str) -> str:
    """A signed, time-stamped token for the form ``name``."""
    return _serializer().dumps({"form": name})


def token_ok(name: str, token: str) -> bool:
    """Whether ``token`` was issued by this site for the form ``name`` within TOKEN_MAX_AGE."""
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return False
    return isinstance(data, dict) and data.get("form") == name


def _lang_from_query() -> None:
    if request.args.get("lang") in LANGS:
        g.lang = request.args["lang"]


_INPUTS = {
    "email": "email",
    "phone": "tel",
    "url": "url",
    "date": "date",
    "integer": "number",
}


def _widgets(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """What the template needs for each field: label, input kind, options, limits."""
    out = []
    for ff, f in platform_of().webforms.fields(definition):
        kind = f.type.name
        options = []
        if kind == "select":
            names = f.prop.get("x-options-labels") or {}
            options = [(o, label(names.get(o), o)) for o in f.prop.get("enum") or []]
        lo, hi = f.prop.get("minimum"), f.prop.get("maximum")
        # A short whole-number range (a 1–5 or 0–10 score) is a row of choices, not a box.
        scale = (
            list(range(lo, hi + 1))
            if kind == "integer" and isinstance(lo, int) and isinstance(hi, int) and hi - lo <= 10
            else []
        )
        out.append(
            {
                "key": ff.key,
                "scale": scale,
                "label": label(ff.label, "") or label(f.label, ff.key),
                "help": label(ff.help, "") if ff.help else "",
                "required": ff.required or f.required,
                "kind": kind,
                "input": _INPUTS.get(kind, "text"),
                "numeric": kind in ("decimal", "currency", "percent"),
                "maxlength": f.prop.get("maxLength"),
                "options": options,
            }
        )
    return out


def _message(entry: dict[str, Any], widget: dict[str, Any] | None) -> str:
    """A visitor's wording of one error (never the engine's internal text)."""
    code = entry.get("code")
    if code == "required":
        return gettext("Please fill in this field.")
    if code == "format" and widget and widget["kind"] == "email":
        return gettext("Enter a valid e-mail address.")
    if code in ("maxLength", "too_long"):
        return gettext("This is too long.")
    if code in ("integer", "number", "type"):
        return gettext("Enter a number.")
    if code in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        return gettext("This number is out of range.")
    if code in ("option", "enum"):
        return gettext("Choose one of the options.")
    return gettext("Please check this value.")


def _page(
    name: str,
    definition: dict[str, Any],
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    status: int = 200,
    action: str | None = None,
) -> Response:
    html = render_template(
        "public_form.html",
        name=name,
        action=action or f"/f/{name}",
        title=label(definition.get("label"), name),
        intro=label(definition.get("intro"), ""),
        widgets=_widgets(definition),
        values=values or {},
        errors=errors or {},
        alert=alert,
        token=form_token(name),
        honeypot=HONEYPOT,
        query_lang=request.args.get("lang") if request.args.get("lang") in LANGS else None,
    )
    # The page carries a time-limited token: no cache may keep it past its age.
    return Response(
        html, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"}
    )


def _thanks(name: str, definition: dict[str, Any]) -> Response:
    text = label(definition.get("thanks"), "") or gettext("Thank you! We will be in touch.")
    html = render_template(
        "public_thanks.html", title=label(definition.get("label"), name), thanks=text
    )
    return Response(html, status=200, mimetype="text/html")


def _simple(status: int, title: str, text: str) -> Response:
    html = render_template("public_message.html", title=title, text=text)
    return Response(html, status=status, mimetype="text/html")


def _not_found() -> Response:
    return _simple(
        404, gettext("Form not found"), gettext("This form does not exist or is closed.")
    )


def _invalid(
    name: str,
    definition: dict[str, Any],
    values: dict[str, str],
    exc: ValidationError,
    action: str | None = None,
) -> Response:
    """The form again, each error under its field (422)."""
    widgets = {w["key"]: w for w in _widgets(definition)}
    errors: dict[str, str] = {}
    alert = None
    for entry in exc.errors:
        key = entry.get("field")
        if key in widgets:
            errors.setdefault(key, _message(entry, widgets[key]))
        else:
            alert = gettext("We could not send your message. Please check the form.")
    return _page(
        name, definition, values=values, errors=errors, alert=alert, status=422, action=action
    )


@blueprint.get("/f/<name>")
def show(name: str) -> Response:
    _lang_from_query()
    try:
        definition = platform_of().webforms.published(name)
    except NotFound:
        return _not_found()
    if isinstance(definition.get("answers"), dict):  # opened through its one-time links only
        return _not_found()
    return _page(name, definition)


def _too_much() -> Response | None:
    """The 413 page for a post over ``MAX_FORM_BODY`` (or of no stated length), else None."""
    length = request.content_length
    if length is None or length > MAX_FORM_BODY:
        return _simple(413, gettext("Too much data"), gettext("The form sent too much data."))
    return None


def _values() -> dict[str, str]:
    """The posted fields, without the form's and the session's tokens."""
    return {k: v for k, v in request.form.items() if k not in ("form_token", "csrf_token")}


def _expired(
    name: str, definition: dict[str, Any], values: dict[str, str], action: str | None = None
) -> Response | None:
    """The form again, with what was sent and a note, when its token is stale or forged
    (submissions and answers alike), else None."""
    if token_ok(name, request.form.get("form_token", "")):
        return None
    alert = gettext("This form has expired. Please check your entries and send it again.")
    return _page(name, definition, values=values, alert=alert, status=400, action=action)


@blueprint.post("/f/<name>")
def submit(name: str) -> Response:
    _lang_from_query()
    if (refused := _too_much()) is not None:
        return refused
    p = platform_of()
    try:
        definition = p.webforms.published(name)
    except NotFound:
        return _not_found()
    values = _values()
    if (expired := _expired(name, definition, values)) is not None:
        return expired
    try:
        p.webforms.submit(name, values, client=request.remote_addr or "unknown")
    except TooManySubmissions:
        return _too_many()
    except ValidationError as exc:
        return _invalid(name, definition, values, exc)
    except TesseraError:
        # A form set up wrongly (submit_as may not create, a rule refuses): the visitor
        # learns nothing of the inside; the administrator finds it in the log.
        current_app.logger.exception("web form %s could not save a submission", name)
        return _unavailable()
    return _thanks(name, definition)


def _too_many() -> Any:
    """The page a visitor over the rate limit gets (submissions and answers alike)."""
    return _simple(
        429,
        gettext("Too many submissions"),
        gettext("You have sent this form too often. Please wait a minute and try again."),
    )


def _unavailable() -> Any:
    """The page a visitor gets when a form is set up wrongly: nothing of the inside shows."""
    return _simple(
        503,
        gettext("Form unavailable"),
        gettext("This form cannot take submissions right now. Please try again later."),
    )


# -- answer links: /f/<name>/a/<token> fills in the one record the link opens ----------


def _link_closed(exc: Exception) -> Response:
    """The page for a link that no longer opens anything (410), or never did (404)."""
    if isinstance(exc, LinkUsed):
        return _simple(
            410,
            gettext("Already answered"),
            gettext("This link has been used: your answer was saved. Thank you!"),
        )
    if isinstance(exc, LinkExpired):
        return _simple(
            410,
            gettext("Link expired"),
            gettext("This link has expired. Please ask us for a new one."),
        )
    return _simple(404, gettext("Link not found"), gettext("This link is not valid."))


@blueprint.get("/f/<name>/a/<token>")
def show_answer(name: str, token: str) -> Response:
    """The form for the record a one-time link opens (nothing of the record is shown)."""
    _lang_from_query()
    try:
        definition, _record = platform_of().webforms.open_link(name, token)
    except (NotFound, LinkUsed, LinkExpired) as exc:
        return _link_closed(exc)
    return _page(name, definition, action=f"/f/{name}/a/{token}")


@blueprint.post("/f/<name>/a/<token>")
def submit_answer(name: str, token: str) -> Response:
    """Save the answer through the record's ordinary update; the link closes with it."""
    _lang_from_query()
    if (refused := _too_much()) is not None:
        return refused
    p = platform_of()
    action = f"/f/{name}/a/{token}"
    try:
        definition, _record = p.webforms.open_link(name, token)
    except (NotFound, LinkUsed, LinkExpired) as exc:
        return _link_closed(exc)
    values = _values()
    if (expired := _expired(name, definition, values, action)) is not None:
        return expired
    try:
        p.webforms.answer(name, token, values, client=request.remote_addr or "unknown")
    except (NotFound, LinkUsed, LinkExpired) as exc:
        return _link_closed(exc)
    except TooManySubmissions:
        return _too_many()
    except ValidationError as exc:
        return _invalid(name, definition, values, exc, action)
    except TesseraError:
        current_app.logger.exception("web form %s could not save an answer", name)
        return _unavailable()
    return _thanks(name, definition)


__all__ = ["MAX_FORM_BODY", "TOKEN_MAX_AGE", "blueprint", "form_token", "token_ok"]

"""The shell: sign-in page, home, language switch and global search.

The sign-in form posts to ``/login`` (web/auth.py); this module only renders it,
so the password check lives in one place.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request, session
from werkzeug.wrappers import Response

from web.http import TOTAL_BOUND, platform_of, safe_next
from web.i18n import LANGS, label
from web.ui.context import sign_in_first

blueprint = Blueprint("shell", __name__)


@blueprint.get("/login")
def login_page() -> Any:
    if request.args.get("lang") in LANGS:
        session["lang"] = request.args["lang"]
        g.lang = session["lang"]
    return render_template("login.html", next=safe_next(request.args.get("next")), failed=None)


@blueprint.get("/")
def home() -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    p = platform_of()
    name = g.user
    if not request.args.get("start"):
        # a dashboard set as the home page of one of the user's roles opens instead;
        # ``/?start=1`` still shows the start page.
        from engine.reports.dashboard import home_dashboard

        if (board := home_dashboard(p, name)) is not None:
            return redirect(f"/dashboards/{board}")
    access = p.access(name)
    entities = []
    for entity in p.entities.names():
        if access.scopes(entity, "read"):
            model = p.entities.get(entity).model
            entities.append(
                {
                    "name": entity,
                    "label": label(model.label, entity),
                    "icon": model.definition.get("icon"),
                    "count": _bounded_count(p.records(entity, name)),
                }
            )
    entities.sort(key=lambda e: e["label"])
    with p.db.transaction(write=False) as conn:
        stored = p.repo.all_current(conn, "report")
    reports = [
        {"name": n, "label": label(d.get("label"), n)}
        for n, (d, _v) in sorted(stored.items())
        if access.scopes(d.get("source", ""), "read")
    ]
    roles = p.users.get(name)["roles"]
    tasks = len(p.flows.tasks(user=name, roles=roles))
    known = access.table.roles
    role_labels = [label((known.get(r) or {}).get("label"), r) for r in roles]
    return render_template(
        "home.html", entities=entities, reports=reports, tasks=tasks, role_labels=role_labels
    )


def _bounded_count(records: Any) -> str:
    """An entity's record count for the home page, "10,000+" past the list's bound.

    A full ``count(*)`` over every readable entity would make the home page as slow
    as its largest table; the list pages stop counting at the same bound.
    """
    n, exact = records.count_upto(TOTAL_BOUND)
    return f"{n:,}" if exact else f"{n:,}+"


@blueprint.post("/settings/lang")
def set_language() -> Response:
    """The language switch: saved for the user (and the session), then back to the page."""
    lang = request.form.get("lang", "")
    if lang not in LANGS:
        return redirect(safe_next(request.form.get("next")))
    session["lang"] = lang
    if g.get("user"):
        platform_of().users.settings.set(g.user, "lang", lang)
    return redirect(safe_next(request.form.get("next")))


@blueprint.get("/search")
def search_page() -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    from engine.store.search import search

    p = platform_of()
    q = request.args.get("q", "").strip()[:200]
    groups: dict[str, dict[str, Any]] = {}
    for hit in search(p, g.user, q) if q else []:
        model = p.entities.get(hit.entity).model
        group = groups.setdefault(
            hit.entity, {"entity": hit.entity, "label": label(model.label, hit.entity), "hits": []}
        )
        field = model.fields[hit.matched]
        group["hits"].append(
            {
                "entity": hit.entity,
                "id": hit.id,
                "title": hit.title,
                "field": label(field.label, hit.matched),
            }
        )
    return render_template("search.html", q=q, groups=list(groups.values()))


__all__ = ["blueprint"]

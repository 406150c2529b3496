"""What every page template can use: the user, the menus, the language, CSRF and icons.

The navigation comes from the installed bundles' ``menus`` (bundle.yaml), kept to
the groups whose ``roles`` include one of the user's and to the items the user may
read, so a page never links to something the API would refuse.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, redirect, request, session
from werkzeug.wrappers import Response

from web.http import platform_of
from web.i18n import current_lang, gettext, label, ngettext, pick_lang, script_catalog
from web.vendor import icon_id

#: The kinds a builder page edits; holding ``customize`` on any opens ``/build``.
BUILDABLE = ("app", "entity", "flow", "report", "dashboard", "rules")


def entity_url(entity: str, record_id: Any = None) -> str:
    return f"/app/{entity}" if record_id is None else f"/app/{entity}/{record_id}"


def item_url(item: dict[str, Any]) -> str | None:
    """Where a menu item leads: an entity's list, a report or a dashboard page."""
    if item.get("entity"):
        return entity_url(item["entity"])
    if item.get("report"):
        return f"/reports/{item['report']}"
    if item.get("dashboard"):
        return f"/dashboards/{item['dashboard']}"
    if item.get("url"):
        return str(item["url"])
    return None


def _readable(access: Any, item: dict[str, Any], report_sources: dict[str, str]) -> bool:
    if item.get("entity"):
        return bool(access.scopes(item["entity"], "read"))
    if item.get("report"):
        source = report_sources.get(item["report"])
        return source is not None and bool(access.scopes(source, "read"))
    return True


def navigation(user: str) -> list[dict[str, Any]]:
    """The menu groups and items ``user`` may open, labels in the request's language."""
    p = platform_of()
    me = p.users.get(user)
    roles = set(me["roles"])
    access = p.access(user)
    with p.db.transaction(write=False) as conn:
        apps = p.repo.all_current(conn, "app")
        reports = p.repo.all_current(conn, "report")
    sources = {name: d.get("source", "") for name, (d, _v) in reports.items()}
    groups = []
    for app_name, (manifest, _v) in sorted(apps.items()):
        for group in manifest.get("menus") or []:
            allowed = group.get("roles")
            if allowed and not (roles & set(allowed)) and "admin" not in roles:
                continue
            items = [
                {
                    "label": label(item.get("label"), item.get("entity") or item.get("report", "")),
                    "url": item_url(item),
                    "icon": icon_id(item.get("icon")),
                }
                for item in group.get("items") or []
                if _readable(access, item, sources) and item_url(item)
            ]
            if items:
                groups.append(
                    {
                        "app": app_name,
                        "label": label(group.get("label"), app_name),
                        "icon": icon_id(group.get("icon")),
                        "items": items,
                    }
                )
    return groups


def sign_in_first() -> Response | None:
    """A redirect to the sign-in page (coming back here after) when nobody is signed in."""
    if g.get("user") is None:
        from urllib.parse import quote

        if request.path == "/":
            return redirect("/login")
        return redirect("/login?next=" + quote(request.full_path.rstrip("?"), safe="/?=&"))
    return None


def _shell() -> dict[str, Any]:
    user = g.get("user")
    lang = current_lang()
    values: dict[str, Any] = {
        "lang": lang,
        "csrf": session.get("csrf", ""),
        "label": label,
        "icon": icon_id,
        "js_catalog": script_catalog(lang),
        "me": None,
        "nav": [],
    }
    if user and g.get("via") == "session":
        p = platform_of()
        values["me"] = me = p.users.get(user)
        values["nav"] = navigation(user)
        values["may_build"] = any(map(p.access(user).may_customize, BUILDABLE))
        values["notification_count"] = len(
            p.flows.tasks(user=user, roles=me["roles"])
        ) + p.notifications.unread(user)
    return values


def _pick_lang_for_pages() -> None:
    if not request.path.startswith("/api/"):
        pick_lang()


def install(app: Flask) -> None:
    """Gettext in the templates, the language picked per request, the shell's values."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    # Pages pick their language up front; API calls only when a message needs it
    # (current_lang() is lazy), which saves JSON requests a settings read.
    app.before_request(_pick_lang_for_pages)
    app.context_processor(_shell)


__all__ = ["entity_url", "install", "item_url", "navigation", "sign_in_first"]

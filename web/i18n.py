"""The pages' language: English source text, Simplified Chinese from gettext catalogs.

Catalogs are ``web/translations/<locale>/*.po`` files, one per area of the app
(shell, lists, forms, ...), read with Babel when the app starts and merged: no
compile step, and two areas never edit the same catalog. Text in templates is
marked ``{{ _("...") }}``; text the browser scripts show lives in ``js.po`` and
reaches the page as a JSON block (see ``base.html``); each area keeps its scripts'
text in ``js-<area>.po`` (or the shared ``js.po``).

The language of a request is, in order: the signed-in user's saved preference,
the session's choice, the browser's ``Accept-Language``, English.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import g, request, session

LANGS = ("en", "zh-CN")
_LOCALES = {"zh-CN": "zh_CN"}
CATALOGS = Path(__file__).resolve().parent / "translations"


def _catalog_files(lang: str) -> list[Path]:
    folder = CATALOGS / _LOCALES.get(lang, lang)
    return sorted(folder.glob("*.po")) if folder.is_dir() else []


@cache
def translations(lang: str) -> NullTranslations:
    """Every catalog of ``lang`` merged into one gettext object (English: the identity)."""
    merged: NullTranslations | None = None
    for path in _catalog_files(lang):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=_LOCALES.get(lang, lang))
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        loaded = Translations(buf)
        if merged is None:
            merged = loaded
        else:
            merged.merge(loaded)  # type: ignore[union-attr]
    return merged or NullTranslations()


@cache
def script_catalog(lang: str) -> dict[str, str]:
    """The ``js*.po`` messages of ``lang`` as a plain mapping for the browser scripts."""
    found: dict[str, str] = {}
    for path in _catalog_files(lang):
        if not path.name.startswith("js"):
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=_LOCALES.get(lang, lang))
        found.update({str(m.id): str(m.string) for m in catalog if m.id and m.string})
    return found


def pick_lang() -> str:
    """The request's language (see the module docstring); stored on ``g.lang``."""
    lang = None
    user = g.get("user")
    if user:
        from web.http import platform_of

        lang = platform_of().users.settings.get(user, "lang")
    lang = lang or session.get("lang")
    if lang not in LANGS:
        best = request.accept_languages.best_match(["en", "zh-CN", "zh"]) or "en"
        lang = "zh-CN" if best.startswith("zh") else "en"
    g.lang = lang
    return lang


def current_lang() -> str:
    return g.get("lang") or pick_lang()


def gettext(message: str, **values: Any) -> str:
    """``message`` in the request's language, with ``%(name)s`` values filled in."""
    text = translations(current_lang()).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    text = translations(current_lang()).ngettext(singular, plural, n)
    values.setdefault("num", n)
    return text % values


def label(value: Any, fallback: str) -> str:
    """A metadata label (a text or an ``{en, zh-CN}`` map) in the request's language."""
    from engine.forms.entity import label_text

    return label_text(value, current_lang(), fallback)


__all__ = [
    "LANGS",
    "current_lang",
    "gettext",
    "label",
    "ngettext",
    "pick_lang",
    "script_catalog",
    "translations",
]

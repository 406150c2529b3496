"""The engine's own messages in the reader's language, without knowing about the web.

A refusal, a conflict or a checker diagnostic is worded where it is raised, in
English, through ``t("{entity} {record_id} does not exist", entity=..., ...)``.
``t`` looks the English template up in ``engine/translations/<locale>/engine.po``
(read with Babel, no compile step) and fills the ``{name}`` values in after
translating, so ids and names stay as they are.

Whose language it is lives in a context variable, ``"en"`` unless a caller says
otherwise: the web sets it per request from the user's preference (it may pass a
function, called only when a message is actually worded), the CLI and the jobs
leave it alone. The engine never imports the web to find out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

CATALOGS = Path(__file__).resolve().parent / "translations"
_LOCALES = {"zh-CN": "zh_CN", "zh": "zh_CN"}

Language = str | Callable[[], str]
_language: ContextVar[Language] = ContextVar("tessera_language", default="en")


def set_language(lang: Language) -> Token[Language]:
    """Word messages in ``lang`` (a code such as ``"zh-CN"``, or a function giving one).

    Returns the token ``reset_language`` needs to put the previous language back.
    """
    return _language.set(lang)


def reset_language(token: Token[Language]) -> None:
    _language.reset(token)


@contextmanager
def language(lang: Language) -> Iterator[None]:
    """``with language("zh-CN"):`` words the block's messages in Chinese."""
    token = set_language(lang)
    try:
        yield
    finally:
        reset_language(token)


def current_language() -> str:
    """The language messages are worded in now (``"en"`` when nobody said)."""
    lang = _language.get()
    if callable(lang):
        try:
            lang = lang()
        except Exception:  # a resolver that cannot answer (no request any more): English
            return "en"
    return lang or "en"


@cache
def catalog(lang: str) -> dict[str, str]:
    """English template -> translation for ``lang``, from every ``.po`` file of its folder."""
    folder = CATALOGS / _LOCALES.get(lang, lang.replace("-", "_"))
    found: dict[str, str] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as fh:
            messages = read_po(fh, locale=folder.name)
        found.update({str(m.id): str(m.string) for m in messages if m.id and m.string})
    return found


def t(message: str, /, **values: Any) -> str:
    """``message`` (an English ``str.format`` template) in the current language, filled in.

    A message with no translation stays English; a translation that names a value
    the caller did not pass falls back to the English text rather than failing.
    """
    lang = current_language()
    template = message if lang == "en" else catalog(lang).get(message, message)
    if not values:
        return template
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return message.format(**values)


__all__ = ["catalog", "current_language", "language", "reset_language", "set_language", "t"]

"""Every text the pages and their scripts show has a Simplified Chinese translation.

The messages are extracted from the templates (``_()``), the Python views
(``gettext``/``_``) and the scripts (``Tessera.t()`` / ``t()``) with Babel, the
same way a translator's tool would, and looked up in the merged catalogs.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from web.i18n import script_catalog, translations

WEB = Path(__file__).resolve().parents[2] / "web"


def _messages(method_map, options_map=None, keywords=None):
    kw = {"keywords": keywords} if keywords else {}
    found = {}
    for filename, lineno, message, _c, _ctx in extract_from_dir(
        str(WEB), method_map=method_map, options_map=options_map or {}, **kw
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, f"web/{filename}:{lineno}")
    return found


def test_every_page_message_is_translated():
    zh = translations("zh-CN")
    messages = _messages(
        [("templates/**.html", "jinja2"), ("**.py", "python")],
        {"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    assert "Sign in" in messages  # the extraction itself works
    missing = {m: where for m, where in messages.items() if zh.gettext(m) == m}
    assert not missing, f"no zh_CN translation: {missing}"


def test_every_script_message_is_translated():
    messages = _messages([("static/**.js", "javascript")], keywords={"t": None, "Tessera.t": None})
    catalog = script_catalog("zh-CN")
    missing = {m: where for m, where in messages.items() if not catalog.get(m)}
    assert not missing, f"no zh_CN translation in js.po: {missing}"


def test_catalogs_merge_across_areas():
    zh = translations("zh-CN")
    assert zh.gettext("Sign in") == "登录"
    assert translations("en").gettext("Sign in") == "Sign in"

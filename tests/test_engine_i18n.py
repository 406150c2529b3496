"""Every engine message marked for translation has a Simplified Chinese entry.

The messages are found the way a translator's tool finds them: Babel extracts
the first argument of ``t(...)`` (or ``_t(...)``) from every engine module that
imports ``engine.i18n``, and each must have a non-empty ``zh_CN`` translation
that names the same ``{values}`` as the English text.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract

from engine.i18n import catalog, current_language, language, reset_language, set_language, t
from engine.rules.catalog import KIND_WORDS

ENGINE = Path(__file__).resolve().parents[1] / "engine"


def _engine_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(ENGINE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "from engine.i18n import" not in text:
            continue
        with path.open("rb") as fh:
            for lineno, message, _comments, _ctx in extract(
                "python", fh, keywords={"t": None, "_t": None}
            ):
                msgid = message[0] if isinstance(message, tuple) else message
                found.setdefault(msgid, f"{path.relative_to(ENGINE.parent)}:{lineno}")
    return found


def _names(template: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(template) if name}


def test_every_engine_message_is_translated():
    messages = _engine_messages()
    assert "{entity} {id} does not exist" in messages  # the extraction itself works
    zh = catalog("zh-CN")
    missing = {m: where for m, where in messages.items() if not zh.get(m)}
    assert not missing, f"no zh_CN translation in engine/translations/zh_CN: {missing}"
    wrong = {m: zh[m] for m in messages if _names(zh[m]) != _names(m)}
    assert not wrong, f"translations that name other values than the English: {wrong}"


def test_the_words_messages_are_built_from_are_translated():
    """Type words and the parser's "expected ..." words are looked up by value, not literal."""
    from engine.rules.parse import _WORDS

    zh = catalog("zh-CN")
    words = [*KIND_WORDS.values(), *_WORDS.values()]
    words += ["a field name or a value", "an operator such as == or and"]
    from engine.meta.located import _NOUNS

    words += list(_NOUNS.values())  # the bundle checker's "expected a mapping, got ..."
    assert not [w for w in words if not zh.get(w)]


def test_a_syntax_error_reads_in_chinese():
    from engine.errors import RuleSyntaxError
    from engine.rules.parse import parse_expression

    with language("zh-CN"), pytest.raises(RuleSyntaxError) as info:
        parse_expression("a ==")
    assert info.value.message == "文本过早结束；此处应为 字段名或值。"


def test_english_by_default_and_chinese_inside_a_language_block():
    assert current_language() == "en"
    assert t("{entity} {id} does not exist", entity="lead", id=7) == "lead 7 does not exist"
    with language("zh-CN"):
        assert t("{entity} {id} does not exist", entity="lead", id=7) == "lead 7 不存在"
        assert t("a message nobody translated {x}", x=1) == "a message nobody translated 1"
    assert current_language() == "en"


def test_a_language_function_is_asked_lazily_and_a_failing_one_means_english():
    asked = []
    token = set_language(lambda: asked.append(1) or "zh-CN")
    try:
        assert asked == []
        assert t("the record is invalid") == "记录无效"
        assert asked == [1]
    finally:
        reset_language(token)
    with language(lambda: (_ for _ in ()).throw(RuntimeError("no request"))):
        assert t("the record is invalid") == "the record is invalid"


@pytest.mark.parametrize("lang", ["zh-CN", "zh_CN", "zh"])
def test_locale_spellings(lang):
    with language(lang):
        assert t("stale version") == "版本已过期"

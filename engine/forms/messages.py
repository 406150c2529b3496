"""Validation messages a business user can read, in English and Simplified Chinese.

A validator reports a keyword and its parameters (``maxLength``, ``{"limit": 200}``);
the page shows a sentence about the field by its label ("Company must be at most
200 characters"). Keeping the wording here, apart from both validators, lets the
compiled validator and the jsonschema fallback speak with one voice.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

LANGUAGES = ("en", "zh-CN")

_TYPE_WORDS = {
    "en": {
        "integer": "a whole number",
        "number": "a number",
        "string": "text",
        "boolean": "yes or no",
        "array": "a list",
        "object": "a set of fields",
    },
    "zh-CN": {
        "integer": "整数",
        "number": "数字",
        "string": "文本",
        "boolean": "是或否",
        "array": "列表",
        "object": "字段集合",
    },
}

_FORMAT_WORDS = {
    "en": {
        "email": "a valid e-mail address",
        "date": "a valid date (YYYY-MM-DD)",
        "date-time": "a valid date and time with a time zone",
        "time": "a valid time with a time zone",
        "uri": "a valid link",
        "duration": "a valid duration",
        "uuid": "a valid UUID",
    },
    "zh-CN": {
        "email": "有效的电子邮件地址",
        "date": "有效的日期（YYYY-MM-DD）",
        "date-time": "带时区的有效日期时间",
        "time": "带时区的有效时间",
        "uri": "有效的链接",
        "duration": "有效的时长",
        "uuid": "有效的 UUID",
    },
}

# code -> (English template, Chinese template); {label} plus the params named in each.
_TEMPLATES: dict[str, tuple[str, str]] = {
    "required": ("{label} is required", "{label} 为必填项"),
    "maxLength": ("{label} must be at most {limit} characters", "{label} 最多 {limit} 个字符"),
    "minLength": ("{label} must be at least {limit} characters", "{label} 至少 {limit} 个字符"),
    "pattern": ("{label} is not in the expected format", "{label} 格式不正确"),
    "minimum": ("{label} must be at least {limit}", "{label} 不能小于 {limit}"),
    "maximum": ("{label} must be at most {limit}", "{label} 不能大于 {limit}"),
    "exclusiveMinimum": ("{label} must be greater than {limit}", "{label} 必须大于 {limit}"),
    "exclusiveMaximum": ("{label} must be less than {limit}", "{label} 必须小于 {limit}"),
    "multipleOf": ("{label} must be a multiple of {multiple}", "{label} 必须是 {multiple} 的倍数"),
    "minItems": ("{label} must have at least {limit} items", "{label} 至少需要 {limit} 项"),
    "maxItems": ("{label} must have at most {limit} items", "{label} 最多 {limit} 项"),
    "uniqueItems": ("{label} must not contain duplicates", "{label} 不能包含重复项"),
    "minProperties": (
        "{label} must have at least {limit} fields",
        "{label} 至少需要 {limit} 个字段",
    ),
    "maxProperties": ("{label} must have at most {limit} fields", "{label} 最多 {limit} 个字段"),
    "const": ("{label} must be {expected}", "{label} 必须是 {expected}"),
    "items": ("{label} must be empty", "{label} 必须为空"),
    "false": ("{label} is not allowed", "{label} 不允许填写"),
}


class _Values(dict):
    """Template values; a parameter the reporter left out reads as ``?``, never a KeyError."""

    def __missing__(self, key: str) -> str:
        return "?"


def _lang(lang: str) -> str:
    return "zh-CN" if lang.lower().startswith("zh") else "en"


def _text(value: Any) -> str:
    """A value as a user would write it: 5 rather than 5.0, yes/no rather than True/False."""
    if value is True or value is False:
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _type(params: dict[str, Any], label: str, lang: str) -> str:
    if params.get("null"):  # an empty required field arrives as null: say it is required
        return f"{label} 为必填项" if lang == "zh-CN" else f"{label} is required"
    words = _TYPE_WORDS[lang]
    expected = [t for t in params.get("expected", []) if t != "null"]
    names = [words.get(t, t) for t in expected] or [words["string"]]
    if lang == "zh-CN":
        return f"{label} 必须是{'或'.join(names)}"
    return f"{label} must be {' or '.join(names)}"


def _enum(params: dict[str, Any], label: str, lang: str) -> str:
    options = [_text(v) for v in params.get("allowed", []) if v is not None]
    if lang == "zh-CN":
        return f"{label} 必须是以下选项之一：{'、'.join(options)}"
    return f"{label} must be one of: {', '.join(options)}"


def _format(params: dict[str, Any], label: str, lang: str) -> str:
    fmt = str(params.get("format", ""))
    if lang == "zh-CN":
        return f"{label} 不是{_FORMAT_WORDS[lang].get(fmt, f'有效的 {fmt}')}"
    return f"{label} is not {_FORMAT_WORDS[lang].get(fmt, f'a valid {fmt}')}"


def _unknown_field(params: dict[str, Any], label: str, lang: str) -> str:
    """``label`` names the entity here: the field is the one it does not have."""
    names = [str(n) for n in params.get("unexpected", [])]
    if lang == "zh-CN":
        return f"{label} 上没有字段 {'、'.join(names)}"
    quoted = ", ".join(f"'{n}'" for n in names)
    if len(names) == 1:
        return f"Field {quoted} is not defined on {label}"
    return f"Fields {quoted} are not defined on {label}"


_BUILDERS: dict[str, Callable[[dict[str, Any], str, str], str]] = {
    "type": _type,
    "enum": _enum,
    "format": _format,
    "additionalProperties": _unknown_field,
}


def message(code: str, params: dict[str, Any] | None, label: str, lang: str = "en") -> str:
    """The sentence for one failed keyword about the field called ``label``.

    ``lang`` is ``en`` or ``zh-CN`` (any ``zh`` variant reads Chinese; anything
    else English). A keyword without its own wording still yields a sentence
    naming the field, so no error ever reaches the user as a bare code.
    """
    lang = _lang(lang)
    params = params or {}
    builder = _BUILDERS.get(code)
    if builder is not None:
        return builder(params, label, lang)
    if code == "minLength" and params.get("limit") == 1:
        return f"{label} 不能为空" if lang == "zh-CN" else f"{label} must not be empty"
    template = _TEMPLATES.get(code)
    if template is None:
        return f"{label} 的值无效" if lang == "zh-CN" else f"{label} is not valid"
    values = _Values({k: _text(v) for k, v in params.items()}, label=label)
    return template[1 if lang == "zh-CN" else 0].format_map(values)


__all__ = ["LANGUAGES", "message"]

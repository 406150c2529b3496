"""The compiled record validator must agree with jsonschema, the oracle, on every document.

Property tests generate entity-like schemas from the keywords entity schemas use
and documents that mostly fit them, with the cases where hand-written checks go
wrong: booleans where numbers belong, 1.0 as an integer, astral characters in
length limits, impossible dates, date-times without an offset, unknown keys in
child rows. Plain tests cover the messages and ``RecordValidator``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from engine.forms.entity import build_model
from engine.forms.messages import message
from engine.forms.validation import RecordValidator
from engine.forms.validator import compile_validator, oracle_entry

NAMES = ["a", "b", "qty", "name", "名", "x y"]
FORMAT_SAMPLES = {
    "email": ["a@b.co", "ab", "@", "用户@例子.中国", ""],
    "date": ["2026-02-28", "2026-02-30", "2024-02-29", "2026-1-01", "2026-01-01\n", "٢٠٢٦-01-01"],
    "date-time": [
        "2026-03-01T10:00:00Z",
        "2026-03-01T10:00:00",
        "2026-03-01t10:00:00z",
        "2026-03-01T10:00:00.123+08:00",
        "2026-03-01T25:00:00Z",
        "2026-02-30T10:00:00Z",
    ],
    "uri": ["https://example.org/a?b=1", "not a uri", "mailto:a@b.co", "/relative"],
    "duration": ["P1D", "PT1H30M", "P1", "1 day"],
}
PATTERNS = ["^[a-z]+$", "\\d", "^A", "x$"]
NASTY = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, -1, 1.0, 2.5, -0.0, 10**20, 3.0000000001]),
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.sampled_from(["😀😀😀", "é", "e\u0301", "AAAx", "abc1"]),
    st.lists(st.sampled_from(["vip", "new", 1, True]), max_size=3),
    st.dictionaries(st.sampled_from(NAMES), st.integers(0, 3), max_size=2),
)


def _nullable(schema: dict[str, Any], draw: Any) -> dict[str, Any]:
    """Optional fields accept null the way ``validation_property`` writes them."""
    if draw(st.booleans()):
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


@st.composite
def leaf_schemas(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["string", "integer", "number", "boolean", "enum", "format"]))
    schema: dict[str, Any]
    if kind == "string":
        schema = {"type": "string"}
        if draw(st.booleans()):
            schema["maxLength"] = draw(st.integers(0, 4))
        if draw(st.booleans()):
            schema["minLength"] = draw(st.integers(0, 3))
        if draw(st.booleans()):
            schema["pattern"] = draw(st.sampled_from(PATTERNS))
    elif kind in ("integer", "number"):
        schema = {"type": kind}
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if draw(st.integers(0, 3)) == 0:
                schema[key] = draw(st.sampled_from([0, 1, 2.5, -1, 100]))
        if draw(st.integers(0, 3)) == 0:
            schema["multipleOf"] = draw(st.sampled_from([2, 0.5, 0.1, 3]))
    elif kind == "boolean":
        schema = {"type": "boolean"}
    elif kind == "enum":
        values = draw(
            st.lists(
                st.sampled_from(["vip", "new", "", 1, 1.0, 2, True, False, "1", [1], {"a": 1}]),
                min_size=1,
                max_size=4,
                unique_by=repr,
            )
        )
        schema = {"enum": values}
        if draw(st.booleans()):
            return schema  # no type: enum alone decides
        schema = {"type": "string", "enum": [v for v in values if isinstance(v, str)] or ["x"]}
    else:
        fmt = draw(st.sampled_from(sorted(FORMAT_SAMPLES)))
        schema = {"type": "string", "format": fmt}
    return _nullable(schema, draw)


@st.composite
def field_schemas(draw: Any, depth: int) -> dict[str, Any]:
    choice = draw(st.integers(0, 9))
    if choice == 0:
        tags: dict[str, Any] = {"type": "array", "items": draw(leaf_schemas())}
        if draw(st.booleans()):
            tags["uniqueItems"] = True
        if draw(st.booleans()):
            tags[draw(st.sampled_from(["minItems", "maxItems"]))] = draw(st.integers(0, 2))
        return _nullable(tags, draw)
    if choice == 1 and depth > 0:
        return _nullable({"type": "array", "items": draw(object_schemas(depth - 1))}, draw)
    if choice == 2:
        # a keyword outside the compiled subset goes to jsonschema for that subschema
        return draw(
            st.sampled_from(
                [
                    {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 2}]},
                    {"not": {"type": "null"}},
                    {"type": "array", "prefixItems": [{"type": "string"}]},
                    {"const": 1},
                    {"const": [1, "a"]},
                ]
            )
        )
    return draw(leaf_schemas())


@st.composite
def object_schemas(draw: Any, depth: int = 1) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    props = {name: draw(field_schemas(depth)) for name in names}
    schema: dict[str, Any] = {"type": "object", "properties": props}
    required = [n for n in names if draw(st.booleans())]
    if required:
        schema["required"] = required
    schema["additionalProperties"] = draw(
        st.sampled_from([False, False, True, {"type": "integer"}])
    )
    return schema


def documents(schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that mostly fit ``schema``, mixed with values that almost do."""
    if not isinstance(schema, dict):
        return NASTY
    fitting: st.SearchStrategy[Any] = NASTY
    types = schema.get("type")
    types = [types] if isinstance(types, str) else (types or [])
    if "enum" in schema:
        fitting = st.sampled_from(schema["enum"])
    elif "format" in schema:
        fitting = st.sampled_from(FORMAT_SAMPLES[schema["format"]])
    elif "object" in types and depth < 3:
        props = {k: documents(v, depth + 1) for k, v in schema.get("properties", {}).items()}
        required = {k: props[k] for k in schema.get("required", []) if k in props}
        optional = {k: v for k, v in props.items() if k not in required}
        fitting = st.one_of(
            st.fixed_dictionaries(required, optional=optional),
            st.fixed_dictionaries({}, optional={**props, "extra": NASTY}),
        )
    elif "array" in types and depth < 3:
        fitting = st.lists(documents(schema.get("items", {}), depth + 1), max_size=3)
    elif "integer" in types:
        fitting = st.one_of(st.integers(-5, 120), st.sampled_from([1.0, 2.0, True]))
    elif "number" in types:
        fitting = st.one_of(st.integers(-5, 120), st.floats(-5, 120, allow_nan=False))
    elif "string" in types:
        fitting = st.one_of(st.text(max_size=6), st.sampled_from(["😀😀😀", "abc1", "AAAx"]))
    elif "boolean" in types:
        fitting = st.one_of(st.booleans(), st.sampled_from([0, 1]))
    return st.one_of(fitting, fitting, fitting, NASTY) if depth else fitting


def _oracle(schema: Any) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_agree(schema: Any, doc: Any) -> None:
    oracle, compiled = _oracle(schema), compile_validator(schema)
    assert compiled.is_valid(doc) == oracle.is_valid(doc), (schema, doc)
    ours = Counter((e["field"], e["code"]) for e in compiled.errors(doc))
    theirs = Counter((e["field"], e["code"]) for e in map(oracle_entry, oracle.iter_errors(doc)))
    assert ours == theirs, (schema, doc)


@settings()
@given(st.data())
def test_compiled_agrees_with_jsonschema_on_entity_schemas(data: st.DataObject) -> None:
    schema = data.draw(object_schemas(depth=1), label="schema")
    oracle, compiled = _oracle(schema), compile_validator(schema)
    for doc in data.draw(st.lists(documents(schema), min_size=1, max_size=6), label="docs"):
        assert compiled.is_valid(doc) == oracle.is_valid(doc)
        ours = Counter((e["field"], e["code"]) for e in compiled.errors(doc))
        theirs = Counter(
            (e["field"], e["code"]) for e in map(oracle_entry, oracle.iter_errors(doc))
        )
        assert ours == theirs


@settings()
@given(st.data())
def test_compiled_agrees_with_jsonschema_on_single_fields(data: st.DataObject) -> None:
    schema = data.draw(field_schemas(depth=1), label="schema")
    for doc in data.draw(st.lists(documents(schema, depth=1), min_size=1, max_size=6)):
        assert_agree(schema, doc)


@pytest.mark.parametrize(
    ("schema", "doc", "valid"),
    [
        ({"type": "integer"}, True, False),
        ({"type": "integer"}, 1.0, True),
        ({"type": "number"}, False, False),
        ({"type": "string", "maxLength": 2}, "😀😀", True),
        ({"type": "string", "pattern": "\\d"}, "ab1", True),
        ({"enum": [1, "a"]}, 1.0, True),
        ({"enum": [1, "a"]}, True, False),
        ({"enum": [False]}, 0, False),
        ({"type": "array", "uniqueItems": True}, [1, 1.0], False),
        ({"type": "array", "uniqueItems": True}, [1, True], True),
        ({"type": "array", "uniqueItems": True}, [{"a": 1}, {"a": 1.0}], False),
        ({"type": "string", "format": "date"}, "2026-02-30", False),
        ({"type": "string", "format": "date-time"}, "2026-03-01T10:00:00", False),
        ({"type": "string", "format": "date-time"}, "2026-03-01T10:00:00+08:00", True),
        ({"type": "number", "multipleOf": 0.1}, 0.3, False),  # float division, as the oracle does
        ({"type": "number", "multipleOf": 0.01}, 1e308, False),  # overflow: exact fractions
        ({"properties": {"a": False}}, {"a": 1}, False),
        ({"$defs": {"n": {"type": "integer"}}, "items": {"$ref": "#/$defs/n"}}, [1, "x"], False),
        (False, 1, False),
    ],
)
def test_nasty_cases(schema: Any, doc: Any, valid: bool) -> None:
    assert compile_validator(schema).is_valid(doc) is valid
    assert_agree(schema, doc)


LEAD = {
    "name": "lead",
    "label": {"en": "Lead", "zh-CN": "线索"},
    "schema": {
        "type": "object",
        "required": ["company"],
        "properties": {
            "company": {
                "type": "string",
                "maxLength": 200,
                "x-label": {"en": "Company", "zh-CN": "公司"},
            },
            "email": {
                "type": "string",
                "format": "email",
                "x-label": {"en": "Email", "zh-CN": "邮箱"},
            },
            "source": {
                "type": "string",
                "enum": ["website", "expo"],
                "x-label": {"en": "Source", "zh-CN": "来源"},
            },
            "company_size": {
                "type": "integer",
                "minimum": 0,
                "x-label": {"en": "Size", "zh-CN": "规模"},
            },
            "close_date": {"type": "string", "format": "date"},
            "items": {
                "type": "array",
                "x-label": {"en": "Items", "zh-CN": "明细"},
                "items": {
                    "type": "object",
                    "properties": {
                        "product": {"type": "string"},
                        "qty": {"type": "integer", "x-label": {"en": "Qty", "zh-CN": "数量"}},
                    },
                },
            },
        },
    },
}


@pytest.fixture
def lead_validator() -> RecordValidator:
    return RecordValidator(build_model(LEAD))


def test_record_validator_accepts_a_valid_lead(lead_validator: RecordValidator) -> None:
    doc = {"company": "Acme", "company_size": 10.0, "items": [{"product": "p", "qty": 2, "id": 1}]}
    assert lead_validator.is_valid(doc)
    assert lead_validator.errors(doc) == []


def test_record_validator_locates_and_words_errors(lead_validator: RecordValidator) -> None:
    doc = {
        "company": "x" * 201,
        "email": "nobody",
        "source": "tv",
        "company_size": True,
        "close_date": "2026-02-30",
        "foo": 1,
        "items": [{"qty": 1.5, "bar": 2}],
    }
    assert not lead_validator.is_valid(doc)
    got = {e["field"]: (e["code"], e["message"]) for e in lead_validator.errors(doc, prefix="")}
    assert got == {
        "company": ("maxLength", "Company must be at most 200 characters"),
        "email": ("format", "Email is not a valid e-mail address"),
        "source": ("enum", "Source must be one of: website, expo"),
        "company_size": ("type", "Size must be a whole number"),
        "close_date": ("format", "close_date is not a valid date (YYYY-MM-DD)"),
        "foo": ("additionalProperties", "Field 'foo' is not defined on lead"),
        "items[0].bar": ("additionalProperties", "Field 'bar' is not defined on lead.items"),
        "items[0].qty": ("type", "Items row 1: Qty must be a whole number"),
    }
    fields = [e["field"] for e in lead_validator.errors(doc)]
    assert fields == sorted(fields)


def test_record_validator_speaks_chinese(lead_validator: RecordValidator) -> None:
    assert lead_validator.errors({"company": None}) == [
        {"field": "company", "message": "Company is required", "code": "type"}
    ]
    got = lead_validator.errors({"email": "nobody", "foo": 1}, prefix="rows[3].", lang="zh-CN")
    assert got == [
        {"field": "rows[3].company", "message": "公司 为必填项", "code": "required"},
        {"field": "rows[3].email", "message": "邮箱 不是有效的电子邮件地址", "code": "format"},
        {"field": "rows[3].foo", "message": "lead 上没有字段 foo", "code": "additionalProperties"},
    ]


@pytest.mark.parametrize(
    ("code", "params", "label", "en", "zh"),
    [
        ("maxLength", {"limit": 200}, "X", "X must be at most 200 characters", "X 最多 200 个字符"),
        ("required", {"property": "c"}, "X", "X is required", "X 为必填项"),
        (
            "format",
            {"format": "email"},
            "X",
            "X is not a valid e-mail address",
            "X 不是有效的电子邮件地址",
        ),
        (
            "type",
            {"expected": ["integer", "null"]},
            "X",
            "X must be a whole number",
            "X 必须是整数",
        ),
        (
            "type",
            {"expected": ["number", "string"]},
            "X",
            "X must be a number or text",
            "X 必须是数字或文本",
        ),
        (
            "enum",
            {"allowed": ["a", "b", None]},
            "X",
            "X must be one of: a, b",
            "X 必须是以下选项之一：a、b",
        ),
        ("minimum", {"limit": 0.0}, "X", "X must be at least 0", "X 不能小于 0"),
        ("exclusiveMaximum", {"limit": 5}, "X", "X must be less than 5", "X 必须小于 5"),
        (
            "multipleOf",
            {"multiple": 0.5},
            "X",
            "X must be a multiple of 0.5",
            "X 必须是 0.5 的倍数",
        ),
        ("uniqueItems", {}, "X", "X must not contain duplicates", "X 不能包含重复项"),
        ("minLength", {"limit": 1}, "X", "X must not be empty", "X 不能为空"),
        (
            "additionalProperties",
            {"unexpected": ["foo"]},
            "lead",
            "Field 'foo' is not defined on lead",
            "lead 上没有字段 foo",
        ),
        ("anyOf", {"message": "..."}, "X", "X is not valid", "X 的值无效"),
        ("maxItems", {}, "X", "X must have at most ? items", "X 最多 ? 项"),
    ],
)
def test_messages(code: str, params: dict, label: str, en: str, zh: str) -> None:
    assert message(code, params, label) == en
    assert message(code, params, label, lang="zh-CN") == zh
    assert message(code, params, label, lang="zh") == zh

"""The field types every platform has, registered through the same door as a developer's."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Numeric, String, Text
from sqlalchemy.types import TypeEngine

from engine.forms.field_registry import FieldType, register_field_type
from engine.i18n import t
from engine.store.types import JsonType, Seconds, UTCDateTime


def _string_length(prop: dict[str, Any], default: int | None) -> int | None:
    if "maxLength" in prop:
        return int(prop["maxLength"])
    if "enum" in prop:
        return max([64, *(len(str(v)) for v in prop["enum"])])
    return default


class Text_(FieldType):
    name = "text"
    label = {"en": "Text", "zh-CN": "单行文本"}
    implied_schema = {"type": "string"}
    config_schema = {
        "type": "object",
        "properties": {
            "maxLength": {"type": "integer", "minimum": 1},
            "pattern": {"type": "string"},
        },
    }

    def matches(self, prop: dict[str, Any]) -> bool:
        return prop.get("type") == "string"

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        length = _string_length(prop, None)
        return String(length) if length else Text()

    def widens(self, old: dict[str, Any], new: dict[str, Any]) -> bool | None:
        a, b = _string_length(old, None), _string_length(new, None)
        if a == b:
            return None
        if b is None:
            return True  # bounded → unbounded text
        if a is None:
            return False
        return b > a


class LongText(Text_):
    name = "long_text"
    label = {"en": "Long text", "zh-CN": "多行文本"}

    def matches(self, prop: dict[str, Any]) -> bool:
        return False

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return Text()


class RichText(LongText):
    """HTML from the form's editor, sanitised on the way in (and again on the way out)
    by ``engine.forms.richtext``: no scripts, event handlers or ``javascript:`` links."""

    name = "rich_text"
    label = {"en": "Rich text", "zh-CN": "富文本"}

    def to_json(self, value: Any) -> Any:
        if isinstance(value, str):
            from engine.forms.richtext import sanitize_html

            return sanitize_html(value)
        return value


class Email(Text_):
    """Stored as written. The import trims and lower-cases e-mails
    (``engine.forms.cleansing``); a conversion here would take every record with an
    e-mail off the record codec's fast path (types with a conversion of their own go the
    general way), which this session measured too costly to keep for the bulk create."""

    name = "email"
    label = {"en": "E-mail", "zh-CN": "邮箱"}
    implied_schema = {"type": "string", "format": "email", "maxLength": 320}

    def matches(self, prop: dict[str, Any]) -> bool:
        return prop.get("type") == "string" and prop.get("format") == "email"

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return String(_string_length(prop, 320))


class Phone(Text_):
    """Stored as written. The import cleanses phones to E.164 (``phone_region``'s country)
    and its duplicate detection normalises stored ones when it compares; doing the same
    on every write was measured and left: one parse by the phonenumbers library costs
    60-300 CPU µs, which took a bulk create from about 0.3x to 0.05x of raw inserts."""

    name = "phone"
    label = {"en": "Phone", "zh-CN": "电话"}
    implied_schema = {"type": "string", "maxLength": 40}

    def matches(self, prop: dict[str, Any]) -> bool:
        return False

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return String(_string_length(prop, 40))


class Url(Text_):
    name = "url"
    label = {"en": "Link", "zh-CN": "链接"}
    implied_schema = {"type": "string", "format": "uri", "maxLength": 2048}

    def matches(self, prop: dict[str, Any]) -> bool:
        return prop.get("type") == "string" and prop.get("format") == "uri"

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return String(_string_length(prop, 2048))


class Select(Text_):
    name = "select"
    label = {"en": "Select", "zh-CN": "下拉单选"}
    value_kind = "string"
    config_schema = {
        "type": "object",
        "required": ["enum"],
        "properties": {
            "enum": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "x-options-labels": {"type": "object"},
            "x-options-colors": {"type": "object"},
        },
    }

    def matches(self, prop: dict[str, Any]) -> bool:
        return prop.get("type") == "string" and "enum" in prop

    def check_definition(self, prop: dict[str, Any]) -> list[str]:
        if not prop.get("enum"):
            return [t("a select field needs a non-empty 'enum' list of options")]
        return []

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return String(_string_length(prop, 64))

    def widens(self, old: dict[str, Any], new: dict[str, Any]) -> bool | None:
        a, b = _string_length(old, 64), _string_length(new, 64)
        return None if a == b else (True if b > a else None)


class Integer_(FieldType):
    name = "integer"
    label = {"en": "Integer", "zh-CN": "整数"}
    implied_schema = {"type": "integer"}
    value_kind = "integer"

    def matches(self, prop: dict[str, Any]) -> bool:
        return prop.get("type") == "integer"

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return BigInteger()

    def to_python(self, value: Any) -> Any:
        return None if value is None else int(value)


class Decimal_(FieldType):
    """Exact decimals. SQLite stores them as floating point, so reads are rounded to the scale."""

    name = "decimal"
    label = {"en": "Decimal", "zh-CN": "小数"}
    implied_schema = {"type": "number"}
    value_kind = "decimal"
    default_precision, default_scale = 24, 6
    config_schema = {
        "type": "object",
        "properties": {
            "x-precision": {"type": "integer", "minimum": 1, "maximum": 38},
            "x-scale": {"type": "integer", "minimum": 0, "maximum": 18},
        },
    }

    def matches(self, prop: dict[str, Any]) -> bool:
        return prop.get("type") == "number"

    def _ps(self, prop: dict[str, Any]) -> tuple[int, int]:
        return (
            int(prop.get("x-precision", self.default_precision)),
            int(prop.get("x-scale", self.default_scale)),
        )

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        precision, scale = self._ps(prop)
        return Numeric(precision, scale, asdecimal=True)

    def widens(self, old: dict[str, Any], new: dict[str, Any]) -> bool | None:
        (p1, s1), (p2, s2) = self._ps(old), self._ps(new)
        if (p1, s1) == (p2, s2):
            return None
        return p2 >= p1 and s2 >= s1 and (p2 - s2) >= (p1 - s1)

    def to_json(self, value: Any) -> Any:
        """Numeric text ("1200.50", as CSV files and JSON clients send money) becomes a Decimal."""
        if isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except ArithmeticError:
                return value
            return number if number.is_finite() else value
        return value

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, float):
            return Decimal(repr(value))
        return Decimal(value)

    def from_db(self, value: Any) -> Any:
        if value is None:
            return None
        value = Decimal(value) if not isinstance(value, Decimal) else value
        return _tidy_decimal(value)


def _tidy_decimal(value: Decimal) -> Decimal:
    """Drop the trailing zeros a NUMERIC(p, s) column pads with, never into exponent form."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


class Currency(Decimal_):
    name = "currency"
    label = {"en": "Currency", "zh-CN": "金额"}
    default_precision, default_scale = 20, 2
    config_schema = {
        "type": "object",
        "properties": {
            "x-currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "x-scale": {"type": "integer", "minimum": 0, "maximum": 6},
        },
    }

    def matches(self, prop: dict[str, Any]) -> bool:
        return False

    def from_db(self, value: Any) -> Any:
        if value is None:
            return None
        scale = Decimal(1).scaleb(-self.default_scale)
        return (
            Decimal(value).quantize(scale)
            if not isinstance(value, Decimal)
            else value.quantize(scale)
        )


class Percent(Decimal_):
    """A fraction (0.15 is 15%); the page shows it as a percentage."""

    name = "percent"
    label = {"en": "Percent", "zh-CN": "百分比"}
    default_precision, default_scale = 12, 6

    def matches(self, prop: dict[str, Any]) -> bool:
        return False


class Boolean_(FieldType):
    name = "boolean"
    label = {"en": "Yes/No", "zh-CN": "是/否"}
    implied_schema = {"type": "boolean"}
    value_kind = "boolean"

    def matches(self, prop: dict[str, Any]) -> bool:
        return prop.get("type") == "boolean"

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return Boolean(create_constraint=False)

    def from_db(self, value: Any) -> Any:
        return None if value is None else bool(value)


class Date_(FieldType):
    name = "date"
    label = {"en": "Date", "zh-CN": "日期"}
    implied_schema = {"type": "string", "format": "date"}
    value_kind = "date"

    def matches(self, prop: dict[str, Any]) -> bool:
        return prop.get("type") == "string" and prop.get("format") == "date"

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return Date()

    def to_json(self, value: Any) -> Any:
        if isinstance(value, dt.date | dt.datetime):
            return value.isoformat()  # a datetime's ISO form fails the date format: refused
        return value

    def to_python(self, value: Any) -> Any:
        return None if value is None else dt.date.fromisoformat(value)


class DateTime_(FieldType):
    name = "datetime"
    label = {"en": "Date and time", "zh-CN": "日期时间"}
    implied_schema = {"type": "string", "format": "date-time"}
    value_kind = "datetime"

    def matches(self, prop: dict[str, Any]) -> bool:
        return prop.get("type") == "string" and prop.get("format") == "date-time"

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return UTCDateTime()

    def to_json(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.isoformat()  # naive values lack the offset RFC 3339 requires
        if isinstance(value, dt.date):
            return value.isoformat()  # a bare date is not a date-time: refused
        return value

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        return parsed.astimezone(dt.UTC)

    def to_api(self, value: Any) -> Any:
        return (
            None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        )


class Duration(FieldType):
    """A length of time; JSON form is whole seconds, Python form a ``timedelta``."""

    name = "duration"
    label = {"en": "Duration", "zh-CN": "时长"}
    implied_schema = {"type": "integer", "minimum": 0}
    value_kind = "duration"

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return Seconds()

    def to_json(self, value: Any) -> Any:
        if isinstance(value, dt.timedelta):
            return int(value.total_seconds())
        return value

    def to_python(self, value: Any) -> Any:
        return None if value is None else dt.timedelta(seconds=int(value))

    def from_db(self, value: Any) -> Any:
        return None if value is None else dt.timedelta(seconds=int(value))


class MultiSelect(FieldType):
    name = "multi_select"
    label = {"en": "Multi-select", "zh-CN": "多选"}
    implied_schema = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    value_kind = "list"

    def matches(self, prop: dict[str, Any]) -> bool:
        items = prop.get("items") or {}
        return prop.get("type") == "array" and isinstance(items, dict) and "enum" in items

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return JsonType

    def widens(self, old: dict[str, Any], new: dict[str, Any]) -> bool | None:
        return None

    def to_python(self, value: Any) -> Any:
        return None if value is None else list(value)


class Tags(MultiSelect):
    name = "tags"
    label = {"en": "Tags", "zh-CN": "标签"}

    def matches(self, prop: dict[str, Any]) -> bool:
        items = prop.get("items") or {}
        return (
            prop.get("type") == "array"
            and isinstance(items, dict)
            and items.get("type") == "string"
        )


class Reference(FieldType):
    """A link to a record of another entity: an indexed foreign key holding its id."""

    name = "reference"
    label = {"en": "Reference", "zh-CN": "关联记录"}
    implied_schema = {"type": "integer"}
    value_kind = "reference"
    config_schema = {
        "type": "object",
        "required": ["x-ref"],
        "properties": {"x-ref": {"type": "string"}},
    }

    def matches(self, prop: dict[str, Any]) -> bool:
        return "x-ref" in prop

    def check_definition(self, prop: dict[str, Any]) -> list[str]:
        return [] if prop.get("x-ref") else [t("a reference field needs 'x-ref' naming an entity")]

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return BigInteger()

    def widens(self, old: dict[str, Any], new: dict[str, Any]) -> bool | None:
        return None if old.get("x-ref") == new.get("x-ref") else False

    def to_python(self, value: Any) -> Any:
        return None if value is None else int(value)


class User(Text_):
    """A platform user, stored by user name."""

    name = "user"
    label = {"en": "User", "zh-CN": "人员"}
    implied_schema = {"type": "string", "maxLength": 64}

    def matches(self, prop: dict[str, Any]) -> bool:
        return False

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return String(64)


_FILE_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$"}


class File(FieldType):
    """An uploaded file: the value is the file's id (a list of ids with ``type: array``).

    The content lives in the ``ts_file`` table (``engine.store.files``); a save
    attaches the file to the record. Options: ``x-max-size`` (bytes, default
    10 MiB) and ``x-accept`` (media types such as ``image/*`` or extensions
    such as ``.pdf``), both checked on the server against the file's content.
    """

    name = "file"
    label = {"en": "File", "zh-CN": "附件"}
    implied_schema = _FILE_ID
    value_kind = "string"
    config_schema = {
        "type": "object",
        "properties": {
            "x-max-size": {"type": "integer", "minimum": 1},
            "x-accept": {"type": "array", "items": {"type": "string"}},
        },
    }

    @staticmethod
    def _multiple(prop: dict[str, Any]) -> bool:
        return prop.get("type") == "array"

    def implied(self, prop: dict[str, Any]) -> dict[str, Any]:
        if self._multiple(prop):
            return {"type": "array", "items": dict(_FILE_ID), "uniqueItems": True}
        return dict(_FILE_ID)

    def check_definition(self, prop: dict[str, Any]) -> list[str]:
        problems = []
        if prop.get("type", "string") not in ("string", "array"):
            problems.append(
                t("a file field holds a file id: use type string (one file) or array (several)")
            )
        size = prop.get("x-max-size")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            problems.append(
                t("x-max-size must be a number of bytes above 0, not {size!r}", size=size)
            )
        accept = prop.get("x-accept")
        if accept is not None and not (
            isinstance(accept, list) and all(isinstance(a, str) and a for a in accept)
        ):
            problems.append(t("x-accept must be a list such as [image/*, .pdf]"))
        return problems

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return JsonType if self._multiple(prop) else String(32)

    def to_python(self, value: Any) -> Any:
        return list(value) if isinstance(value, list) else value

    def widens(self, old: dict[str, Any], new: dict[str, Any]) -> bool | None:
        return None if self._multiple(old) == self._multiple(new) else False


class ChildTable(FieldType):
    """Rows owned by the record: a table of their own with a parent key."""

    name = "child_table"
    label = {"en": "Child table", "zh-CN": "子表"}
    storage = "table"
    value_kind = "rows"

    def matches(self, prop: dict[str, Any]) -> bool:
        items = prop.get("items") or {}
        return (
            prop.get("type") == "array"
            and isinstance(items, dict)
            and (items.get("type") == "object" or "properties" in items)
        )

    def check_definition(self, prop: dict[str, Any]) -> list[str]:
        items = prop.get("items") or {}
        if not items.get("properties"):
            return [t("a child table needs 'items.properties' describing its columns")]
        return []

    def to_json(self, value: Any) -> Any:
        return value

    def widens(self, old: dict[str, Any], new: dict[str, Any]) -> bool | None:
        return None


_COUNTER = re.compile(r"\{(#+)\}")
_TOKEN = re.compile(r"\{([^}]*)\}")
_DATE_TOKENS = {"YYYY", "YY", "MM", "DD"}


class Autonumber(FieldType):
    """A readable unique number such as ``LEAD-{YYYY}-{#####}``; the counter restarts each period."""

    name = "autonumber"
    label = {"en": "Auto number", "zh-CN": "自动编号"}
    implied_schema = {"type": "string", "maxLength": 64}
    read_only = True
    config_schema = {
        "type": "object",
        "required": ["x-pattern"],
        "properties": {"x-pattern": {"type": "string"}},
    }

    def check_definition(self, prop: dict[str, Any]) -> list[str]:
        pattern = prop.get("x-pattern")
        if not isinstance(pattern, str) or not pattern:
            return [t("an autonumber field needs 'x-pattern', e.g. 'LEAD-{YYYY}-{#####}'")]
        counters = _COUNTER.findall(pattern)
        problems = []
        if len(counters) != 1:
            problems.append(
                t(
                    "autonumber pattern {pattern!r} needs exactly one counter such as {{#####}}",
                    pattern=pattern,
                )
            )
        for token in _TOKEN.findall(pattern):
            if token not in _DATE_TOKENS and not re.fullmatch(r"#+", token):
                problems.append(
                    t(
                        "autonumber pattern {pattern!r} has unknown token {{{token}}}; use {{YYYY}}, {{YY}}, {{MM}}, {{DD}} and one {{###...}}",
                        pattern=pattern,
                        token=token,
                    )
                )
        return problems

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return String(64)

    def widens(self, old: dict[str, Any], new: dict[str, Any]) -> bool | None:
        return None


def register_all() -> None:
    # Inference order: the most specific shapes first, plain text last.
    for ft in (
        Reference(),
        ChildTable(),
        MultiSelect(),
        Tags(),
        Select(),
        Email(),
        Url(),
        Date_(),
        DateTime_(),
        Integer_(),
        Decimal_(),
        Boolean_(),
        Text_(),
    ):
        register_field_type(ft, infer=True)
    for ft in (
        LongText(),
        RichText(),
        Phone(),
        Currency(),
        Percent(),
        Duration(),
        User(),
        File(),
        Autonumber(),
    ):
        register_field_type(ft)


__all__ = ["Autonumber", "Decimal_", "register_all"]

"""Compile a record schema into Python source once, so validating a record is plain code.

``jsonschema`` is the oracle for record validation (DESIGN: Entities and
forms); it interprets the schema on every call, which costs more than the
work itself. For the keywords entity schemas use, :func:`compile_validator`
writes a function per schema that does only the checks, with the same
semantics as ``Draft202012Validator``: booleans are not numbers, ``1.0`` is
an integer, lengths count code points, ``pattern`` searches, ``enum`` and
``uniqueItems`` use JSON equality and ``format`` calls the very functions of
the format checker. A subschema using any other keyword is handed whole to a
``jsonschema`` validator, so an exotic schema is slower but never wrong.

The generated source is built from the schema's data only: names and keys are
emitted with ``repr`` and every other value is passed in as a constant, so no
text from a schema or a record is ever executed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from numbers import Number
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

#: Keywords this module compiles itself; other validating keywords go to jsonschema.
SUPPORTED = frozenset(
    {
        "type", "enum", "const", "minLength", "maxLength", "pattern", "format",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "items", "minItems", "maxItems", "uniqueItems",
        "properties", "required", "additionalProperties", "minProperties", "maxProperties",
    }
)  # fmt: skip
FALLBACK = frozenset(Draft202012Validator.VALIDATORS) - SUPPORTED
_REFS = frozenset({"$ref", "$dynamicRef"})
_TYPES = ("string", "number", "integer", "boolean", "null", "array", "object")
_STRING = ("minLength", "maxLength", "pattern")
_NUMBER = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_ARRAY = ("items", "minItems", "maxItems", "uniqueItems")
_OBJECT = ("properties", "required", "additionalProperties", "minProperties", "maxProperties")
_COMPARE = {"minimum": "<", "maximum": ">", "exclusiveMinimum": "<=", "exclusiveMaximum": ">="}
_LIMIT = {"minLength": "<", "maxLength": ">", "minItems": "<", "maxItems": ">"}
_LIMIT.update(minProperties="<", maxProperties=">")
_MISSING = object()


def _is_integer(x: Any) -> bool:
    """JSON Schema's integer: ``1.0`` counts, ``True`` does not."""
    if isinstance(x, bool):
        return False
    if isinstance(x, float):
        return x.is_integer()
    return isinstance(x, int)


def _is_number(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, Number)


def _not_multiple(x: Any, step: Any) -> bool:
    """Whether ``x`` misses a multiple of ``step``, float quotients as the oracle computes them."""
    if isinstance(step, float):
        quotient = x / step
        try:
            return int(quotient) != quotient
        except OverflowError:
            return (Fraction(x) / Fraction(step)).denominator != 1
    return bool(x % step)


def _unique_fast(items: list[Any], slow: Any) -> bool:
    """Strings compare by hash (tags, multi-selects); anything else asks the oracle's keyword."""
    if all(e.__class__ is str for e in items):
        return len(set(items)) == len(items)
    return slow.is_valid(items)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _at(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _type_test(name: str, x: str) -> str:
    return {
        "string": f"isinstance({x}, str)",
        "integer": f"({x}.__class__ is int or _is_integer({x}))",
        "number": f"({x}.__class__ is int or {x}.__class__ is float"
        f" or {x}.__class__ is _DECIMAL or _is_number({x}))",
        "boolean": f"({x} is True or {x} is False)",
        "null": f"{x} is None",
        "array": f"isinstance({x}, list)",
        "object": f"isinstance({x}, dict)",
    }[name]


def _uses_refs(schema: Any) -> bool:
    if isinstance(schema, dict):
        return bool(_REFS & schema.keys()) or any(_uses_refs(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_uses_refs(v) for v in schema)
    return False


def _scalar_set(values: list[Any]) -> frozenset[Any] | None:
    """The values as a set when hashing gives JSON equality (strings, non-bool numbers, null)."""
    ok = all(v is None or v.__class__ in (str, int, float) for v in values)
    return frozenset(values) if ok else None


class _Writer:
    """Writes one function, either the yes/no check or the one collecting every error."""

    def __init__(
        self,
        collect: bool,
        format_checker: Any,
        *,
        failure: str = "return False",
        stem: str = "",
    ) -> None:
        self.collect = collect
        self.checker = format_checker
        #: the statement a failed check runs in yes/no mode
        self.failure = failure
        #: names of constants and variables start with it (several writers, one function)
        self.stem = stem
        self.lines: list[str] = []
        self.names: dict[str, Any] = {}
        self.counter = 0

    def const(self, value: Any) -> str:
        name = f"_k{self.stem}{len(self.names)}"
        self.names[name] = value
        return name

    def var(self, stem: str = "x") -> str:
        self.counter += 1
        return f"{stem}{self.stem}{self.counter}"

    def put(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def fail(self, depth: int, path: str, code: str, params: str = "{}") -> None:
        if self.collect:
            self.put(depth, f"_out({{'field': {path}, 'code': {code!r}, 'params': {params}}})")
        else:
            self.put(depth, self.failure)

    def fallback(self, schema: Any, x: str, path: str, depth: int) -> None:
        oracle = self.const(Draft202012Validator(schema, format_checker=self.checker))
        if self.collect:
            self.put(depth, f"_oracle_errors({oracle}, {x}, {path}, _out)")
        else:
            self.put(depth, f"if not {oracle}.is_valid({x}): {self.failure}")

    # -- one subschema -------------------------------------------------------------

    def node(self, schema: Any, x: str, path: str, depth: int) -> None:
        if schema is True:
            return
        if not isinstance(schema, dict) or FALLBACK & schema.keys():
            self.fallback(schema, x, path, depth)
            return
        types = schema.get("type")
        if types is not None:
            types = [types] if isinstance(types, str) else list(types)
            if not all(t in _TYPES for t in types):
                self.fallback(schema, x, path, depth)
                return
        if self.collect:
            for keyword in schema:
                if keyword in SUPPORTED:
                    self.keyword(schema, keyword, x, path, depth)
            return
        self.branches(schema, types, x, path, depth)
        for keyword in ("enum", "const", "format"):
            if keyword in schema:
                self.keyword(schema, keyword, x, path, depth)

    def branches(self, schema: dict, types: list | None, x: str, path: str, depth: int) -> None:
        """Yes/no mode: one if/elif chain on the value's kind, each kind with its keywords."""
        chain = []
        for kind, keywords in (("string", _STRING), ("number", _NUMBER),
                               ("array", _ARRAY), ("object", _OBJECT)):  # fmt: skip
            present = [k for k in keywords if k in schema]
            allowed = types is None or kind in types or (kind == "number" and "integer" in types)
            if not (present if types is None else allowed):
                continue  # a kind the type forbids falls through to the final test and fails
            chain.append((kind, present, allowed))
        others = None
        if types is not None:
            others = [_type_test(t, x) for t in types if t in ("boolean", "null")]
        if not chain and others is None:
            return
        for i, (kind, present, allowed) in enumerate(chain):
            self.put(depth, f"{'if' if i == 0 else 'elif'} {_type_test(kind, x)}:")
            self.put(depth + 1, "pass")
            if not allowed:
                self.fail(depth + 1, path, "type")
                continue
            if kind == "number" and types is not None and "number" not in types:
                self.put(depth + 1, f"if {x}.__class__ is not int and not _is_integer({x}):")
                self.fail(depth + 2, path, "type")
            for keyword in present:
                self.keyword(schema, keyword, x, path, depth + 1)
        if others is not None:
            test = " or ".join(others) or "False"
            if chain:
                self.put(depth, f"elif not ({test}):")
            else:
                self.put(depth, f"if not ({test}):")
            self.fail(depth + 1, path, "type")

    def guard(self, kind: str, x: str, depth: int) -> int:
        """Collect mode keeps each keyword on its own; it guards itself by the value's kind."""
        if self.collect:
            self.put(depth, f"if {_type_test(kind, x)}:")
            return depth + 1
        return depth

    # -- one keyword ---------------------------------------------------------------

    def keyword(self, schema: dict, keyword: str, x: str, path: str, depth: int) -> None:
        value = schema[keyword]
        k = self.const(value)
        if keyword == "type":
            types = [value] if isinstance(value, str) else list(value)
            test = " or ".join(_type_test(t, x) for t in types) or "False"
            self.put(depth, f"if not ({test}):")
            self.fail(
                depth + 1,
                path,
                "type",
                f"{{'expected': list({k}) if isinstance({k}, list) else [{k}], 'null': {x} is None}}",
            )
        elif keyword in ("minLength", "maxLength"):
            d = self.guard("string", x, depth)
            self.put(d, f"if len({x}) {_LIMIT[keyword]} {k}:")
            self.fail(d + 1, path, keyword, f"{{'limit': {k}}}")
        elif keyword == "pattern":
            regex = self.const(re.compile(value))
            d = self.guard("string", x, depth)
            self.put(d, f"if not {regex}.search({x}):")
            self.fail(d + 1, path, keyword, f"{{'pattern': {k}}}")
        elif keyword == "format":
            if self.checker is None or value not in self.checker.checkers:
                return
            func, raises = self.checker.checkers[value]
            f, r = self.const(func), self.const(raises)
            self.put(depth, "try:")
            self.put(depth + 1, f"_ok = {f}({x})")
            self.put(depth, f"except {r}:")
            self.put(depth + 1, "_ok = False")
            self.put(depth, "if not _ok:")
            self.fail(depth + 1, path, keyword, f"{{'format': {k}}}")
        elif keyword in _COMPARE:
            d = self.guard("number", x, depth)
            self.put(d, f"if {x} {_COMPARE[keyword]} {k}:")
            self.fail(d + 1, path, keyword, f"{{'limit': {k}}}")
        elif keyword == "multipleOf":
            d = self.guard("number", x, depth)
            self.put(d, f"if _not_multiple({x}, {k}):")
            self.fail(d + 1, path, keyword, f"{{'multiple': {k}}}")
        elif keyword in ("enum", "const"):
            self.equality(keyword, value, x, path, depth)
        elif keyword in ("minItems", "maxItems"):
            d = self.guard("array", x, depth)
            self.put(d, f"if len({x}) {_LIMIT[keyword]} {k}:")
            self.fail(d + 1, path, keyword, f"{{'limit': {k}}}")
        elif keyword == "uniqueItems":
            if not value:
                return
            slow = self.const(Draft202012Validator({"uniqueItems": True}))
            d = self.guard("array", x, depth)
            self.put(d, f"if not _unique_fast({x}, {slow}):")
            self.fail(d + 1, path, keyword)
        elif keyword == "items":
            self.items(value, x, path, depth)
        elif keyword in ("minProperties", "maxProperties"):
            d = self.guard("object", x, depth)
            self.put(d, f"if len({x}) {_LIMIT[keyword]} {k}:")
            self.fail(d + 1, path, keyword, f"{{'limit': {k}}}")
        elif keyword == "required":
            d = self.guard("object", x, depth)
            for name in value:
                self.put(d, f"if {name!r} not in {x}:")
                self.fail(d + 1, path, keyword, f"{{'property': {name!r}}}")
        elif keyword == "properties":
            self.properties(value, x, path, depth)
        elif keyword == "additionalProperties":
            self.additional(schema, value, x, path, depth)

    def equality(self, keyword: str, value: Any, x: str, path: str, depth: int) -> None:
        """Plain values are looked up in a set; anything else (bools, Decimals, lists) asks
        the oracle's own keyword, so JSON equality is never approximated."""
        values = list(value) if keyword == "enum" else [value]
        if keyword == "enum":
            params = f"{{'allowed': list({self.const(values)})}}"
        else:
            params = f"{{'expected': {self.const(value)}}}"
        oracle = self.const(Draft202012Validator({keyword: value}))
        allowed = _scalar_set(values)
        if allowed is None:
            self.put(depth, f"if not {oracle}.is_valid({x}):")
            self.fail(depth + 1, path, keyword, params)
            return
        s = self.const(allowed)
        self.put(
            depth,
            f"if {x}.__class__ is str or {x}.__class__ is int or {x}.__class__ is float:",
        )
        self.put(depth + 1, f"if {x} not in {s}:")
        self.fail(depth + 2, path, keyword, params)
        self.put(depth, f"elif {x} is None:")
        self.put(depth + 1, "pass")
        if None not in allowed:
            self.fail(depth + 1, path, keyword, params)
        self.put(depth, f"elif not {oracle}.is_valid({x}):")
        self.fail(depth + 1, path, keyword, params)

    def items(self, value: Any, x: str, path: str, depth: int) -> None:
        d = self.guard("array", x, depth)
        if value is False:
            self.put(d, f"if {x}:")
            self.fail(d + 1, path, "items")
            return
        if value is True:
            return
        item = self.var()
        if self.collect:
            i = self.var("i")
            self.put(d, f"for {i}, {item} in enumerate({x}):")
            self.node(value, item, f"_at({path}, {i})", d + 1)
        else:
            self.put(d, f"for {item} in {x}:")
            self.node(value, item, path, d + 1)
        self.put(d + 1, "pass")

    def properties(self, props: dict, x: str, path: str, depth: int) -> None:
        d = self.guard("object", x, depth)
        for name, sub in props.items():
            if sub is True:
                continue
            y = self.var()
            self.put(d, f"{y} = {x}.get({name!r}, _MISSING)")
            self.put(d, f"if {y} is not _MISSING:")
            if sub is False:
                self.fail(d + 1, path, "false")  # the oracle reports it where the object is
                continue
            self.put(d + 1, "pass")
            self.node(sub, y, self.child_path(path, name), d + 1)

    def child_path(self, path: str, name: str) -> str:
        if path == "''":
            return repr(name)
        if not self.collect:
            return path
        return f"_join({path}, {name!r})"

    def additional(self, schema: dict, value: Any, x: str, path: str, depth: int) -> None:
        if value is True:
            return
        declared = self.const(frozenset(schema.get("properties", {})))
        d = self.guard("object", x, depth)
        if value is False:
            if self.collect:
                extra = self.var("extra")
                self.put(d, f"{extra} = sorted((k for k in {x} if k not in {declared}), key=str)")
                self.put(d, f"if {extra}:")
                self.fail(d + 1, path, "additionalProperties", f"{{'unexpected': {extra}}}")
            else:
                self.put(d, f"if not {declared}.issuperset({x}): {self.failure}")
            return
        key, y = self.var("key"), self.var()
        self.put(d, f"for {key}, {y} in {x}.items():")
        self.put(d + 1, f"if {key} in {declared}: continue")
        sub = f"_join({path}, {key})" if self.collect else path
        self.node(value, y, sub, d + 1)


def _oracle_errors(oracle: Any, x: Any, path: str, out: Callable[[dict], None]) -> None:
    for error in oracle.iter_errors(x):
        out(oracle_entry(error, path))


def oracle_entry(error: ValidationError, prefix: str = "") -> dict[str, Any]:
    """A jsonschema error in this module's shape: ``{field, code, params}``.

    Keyword and path follow the oracle exactly (a ``False`` schema's error has no
    keyword there and is called ``false`` here), so both sides can be compared.
    """
    path = prefix
    for part in error.absolute_path:
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
    code = error.validator if error.validator is not None else "false"
    params: dict[str, Any] = {"message": error.message}
    if code == "required" and "'" in error.message:
        params["property"] = error.message.split("'")[1]
    return {"field": path, "code": str(code), "params": params}


class CompiledValidator:
    """A schema turned into two Python functions: a yes/no check and an error collector."""

    def __init__(self, schema: Any, source: str, is_valid: Any, collect: Any) -> None:
        self.schema = schema
        self.source = source
        self._is_valid = is_valid
        self._collect = collect

    def is_valid(self, doc: Any) -> bool:
        """Whether ``doc`` satisfies the schema; builds no error objects (the hot path)."""
        return self._is_valid(doc)

    def errors(self, doc: Any) -> list[dict[str, Any]]:
        """Every failing keyword as ``{field, code, params}``, the set the oracle would report."""
        out: list[dict[str, Any]] = []
        self._collect(doc, out.append)
        return out


#: The helpers generated checks call (see :func:`value_check`).
RUNTIME = {
    "_MISSING": _MISSING,
    "_DECIMAL": Decimal,
    "_is_integer": _is_integer,
    "_is_number": _is_number,
    "_not_multiple": _not_multiple,
    "_unique_fast": _unique_fast,
    "_join": _join,
    "_at": _at,
    "_oracle_errors": _oracle_errors,
}


def _write_root(w: _Writer, schema: Any, x: str, depth: int) -> None:
    if _uses_refs(schema):
        w.fallback(schema, x, "''", depth)  # references need the whole document to resolve
    else:
        w.node(schema, x, "''", depth)


def _build(schema: Any, collect: bool, format_checker: Any) -> tuple[str, Any]:
    w = _Writer(collect, format_checker)
    _write_root(w, schema, "x0", 1)
    name = "_collect" if collect else "_check"
    head = f"def {name}(x0, _out):" if collect else f"def {name}(x0):"
    tail = "    return None" if collect else "    return True"
    source = "\n".join([head, "    pass", *w.lines, tail]) + "\n"
    namespace = {**RUNTIME, **w.names}
    exec(compile(source, f"<validator {name}>", "exec"), namespace)
    return source, namespace[name]


def value_check(
    schema: Any,
    x: str,
    depth: int,
    *,
    failure: str,
    stem: str,
    format_checker: Any = Draft202012Validator.FORMAT_CHECKER,
) -> tuple[list[str], dict[str, Any]]:
    """The yes/no checks of the value in variable ``x`` against ``schema``, as source lines.

    For a caller that writes one function checking many values (the record
    codec's ``prepare``): the lines are indented ``depth`` levels, run
    ``failure`` when the value does not fit, and fall through when it does.
    The second item maps the constants the lines use (their names start with
    ``_k{stem}``) to their values; the caller's namespace also needs
    :data:`RUNTIME`. They are the very checks :func:`compile_validator` writes
    for the same subschema, so they agree with jsonschema the same way.
    """
    w = _Writer(False, format_checker, failure=failure, stem=stem)
    _write_root(w, schema, x, depth)
    return w.lines, w.names


_EXACT_SCALAR = frozenset(
    {"type", "enum", "minLength", "maxLength", "pattern", "format"}
    | {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
)
_EXACT_ARRAY = frozenset({"type", "items", "uniqueItems", "minItems", "maxItems"})
#: Per JSON type, the test accepting only the exact Python classes whose checks below are
#: the oracle's (a Decimal only when finite: NaN does not compare).
_EXACT_CLASS = {
    "string": "{x}.__class__ is str",
    "integer": "{x}.__class__ is int",
    "number": "({x}.__class__ is int or ({x}.__class__ is _DECIMAL and {x}.is_finite()))",
    "boolean": "({x} is True or {x} is False)",
    "array": "{x}.__class__ is list",
}


def exact_check(
    schema: Any,
    x: str,
    depth: int,
    *,
    failure: str,
    stem: str,
    format_checker: Any = Draft202012Validator.FORMAT_CHECKER,
) -> tuple[list[str], dict[str, Any]] | None:
    """Tighter lines than :func:`value_check` for the usual field schema, or None.

    A field of one JSON type (or that type or null) with the keywords fields
    usually carry accepts only values of the exact Python classes of that
    type (``str``, ``int``, a finite ``Decimal``, ``bool``, a ``list`` of
    ``str``) and runs ``failure`` for any other value, even one the schema
    accepts: for a caller whose failure means "check this the general way",
    never for one that reports it. On the classes it accepts, each check is
    the one the oracle makes (length in code points, ``pattern`` searched,
    ``enum`` by equality of strings, ``format`` by the format checker's own
    function, bounds compared as numbers). Any other schema gives None.
    """
    if not isinstance(schema, dict):
        return None
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if not isinstance(kinds, list) or not 1 <= len(kinds) <= 2:
        return None
    nullable = "null" in kinds
    kinds = [k for k in kinds if k != "null"]
    if len(kinds) != 1 or kinds[0] not in _EXACT_CLASS:
        return None
    kind = kinds[0]
    items = schema.get("items", True)
    if not _exact_fits(kind, schema) or (kind == "array" and not _exact_fits("string", items)):
        return None
    w = _Writer(False, format_checker, failure=failure, stem=stem)
    w.put(depth, f"if {_EXACT_CLASS[kind].format(x=x)}:")
    w.put(depth + 1, "pass")
    if kind == "array":
        item = w.var()
        w.put(depth + 1, f"for {item} in {x}:")
        w.put(depth + 2, f"if {item}.__class__ is not str: {failure}")
        _exact_scalar(w, items, item, depth + 2)
        for keyword in ("minItems", "maxItems"):
            if keyword in schema:
                w.put(depth + 1, f"if len({x}) {_LIMIT[keyword]} {w.const(schema[keyword])}:")
                w.put(depth + 2, failure)
        if schema.get("uniqueItems") is True:
            w.put(depth + 1, f"if len(set({x})) != len({x}): {failure}")
    elif kind != "boolean":
        _exact_scalar(w, schema, x, depth + 1)
    if nullable:
        # null passes the type; of the other keywords only enum and format look at it.
        w.put(depth, f"elif {x} is None:")
        w.put(depth + 1, "pass")
        if "enum" in schema and not any(v is None for v in schema["enum"]):
            w.put(depth + 1, failure)
        elif "format" in schema:
            _exact_format(w, schema, x, depth + 1)
    w.put(depth, "else:")
    w.put(depth + 1, failure)
    return w.lines, w.names


def _exact_fits(kind: str, schema: Any) -> bool:
    """Whether :func:`exact_check` writes every keyword of ``schema`` for values of ``kind``."""
    if not isinstance(schema, dict):
        return False
    if kind == "array":
        return _EXACT_ARRAY.issuperset(schema) and isinstance(schema.get("items"), dict)
    if kind == "string" and schema.get("type") not in ("string", ["string"], ["string", "null"]):
        return False  # an array's items: strings only
    if not _EXACT_SCALAR.issuperset(schema):
        return False
    if "enum" in schema:
        return kind == "string" and isinstance(schema["enum"], list)
    if kind == "string":
        return not any(k in schema for k in _COMPARE)
    return not any(k in schema for k in (*_STRING, "format"))


def _exact_scalar(w: _Writer, schema: dict[str, Any], x: str, depth: int) -> None:
    """The keyword checks of a value already known to be of the schema's exact class."""
    for keyword in ("minLength", "maxLength"):
        if keyword in schema:
            w.put(depth, f"if len({x}) {_LIMIT[keyword]} {w.const(schema[keyword])}: {w.failure}")
    if "pattern" in schema:
        regex = w.const(re.compile(schema["pattern"]))
        w.put(depth, f"if not {regex}.search({x}): {w.failure}")
    if "enum" in schema:
        allowed = w.const(frozenset(v for v in schema["enum"] if isinstance(v, str)))
        w.put(depth, f"if {x} not in {allowed}: {w.failure}")
    for keyword, op in _COMPARE.items():
        if keyword in schema:
            w.put(depth, f"if {x} {op} {w.const(schema[keyword])}: {w.failure}")
    _exact_format(w, schema, x, depth)


def _exact_format(w: _Writer, schema: dict[str, Any], x: str, depth: int) -> None:
    if "format" in schema and w.checker is not None and schema["format"] in w.checker.checkers:
        func, raises = w.checker.checkers[schema["format"]]
        f, r = w.const(func), w.const(raises)
        w.put(depth, "try:")
        w.put(depth + 1, f"_ok = {f}({x})")
        w.put(depth, f"except {r}:")
        w.put(depth + 1, "_ok = False")
        w.put(depth, f"if not _ok: {w.failure}")


def compile_validator(
    schema: Any, format_checker: Any = Draft202012Validator.FORMAT_CHECKER
) -> CompiledValidator:
    """Compile ``schema`` (JSON Schema 2020-12) once; validate many records with the result.

    Raises ``jsonschema.SchemaError`` when the schema itself is invalid, so a bad
    definition fails here rather than on the first record.
    """
    Draft202012Validator.check_schema(schema)
    check_source, check = _build(schema, False, format_checker)
    collect_source, collect = _build(schema, True, format_checker)
    return CompiledValidator(schema, check_source + "\n" + collect_source, check, collect)


__all__ = [
    "FALLBACK",
    "RUNTIME",
    "SUPPORTED",
    "CompiledValidator",
    "compile_validator",
    "exact_check",
    "oracle_entry",
    "value_check",
]

"""Meta-schema errors in plain words, each pointing at a line and column.

``jsonschema`` says *what* failed in its own vocabulary ("Additional
properties are not allowed"); an admin needs *where* and *what to write
instead*. This module runs the 2020-12 validator and rewrites each error:
unknown keys get a "did you mean", type errors say what was expected and
what was found, and a meta-schema may attach its own sentence to a
subschema with the non-standard ``errorMessage`` keyword (``{value!r}`` in it
is replaced by the offending value).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import best_match

from engine.i18n import t as _t
from engine.meta.yamlpos import Marks, Path, dotted

_NOUNS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "nothing (null)",
}
#: Validators whose own wording beats a subschema's errorMessage.
_STRUCTURAL = {"type", "required", "additionalProperties", "minProperties"}


def describe_value(value: Any) -> str:
    """What a value is, in the words of the type errors ("the string 'yes'")."""
    if value is None:
        return _t("nothing (null)")
    if isinstance(value, bool):
        return _t("the boolean {value}", value=str(value).lower())
    if isinstance(value, int):
        return _t("the integer {value}", value=value)
    if isinstance(value, float):
        return _t("the number {value}", value=value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return _t("the string {shown!r}", shown=shown)
    if isinstance(value, list):
        return _t("a list")
    if isinstance(value, dict):
        return _t("a mapping")
    return type(value).__name__


def did_you_mean(word: str, candidates: Iterable[Any]) -> str:
    """``"; did you mean 'x'?"`` when a candidate is close to ``word``, else ``""``."""
    names = [str(c) for c in candidates if c is not None]
    close = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    return _t("; did you mean {close!r}?", close=close[0]) if close else ""


def _where(path: Path) -> str:
    return dotted(path) or _t("the top level")


def _container(path: Path) -> str:
    """The short name of the mapping at ``path``: its last key and any list index after it."""
    if not path:
        return _t("at the top level")
    tail: list[str | int] = []
    for part in reversed(path):
        tail.insert(0, part)
        if isinstance(part, str):
            break
    return _t("in {path}", path=dotted(tuple(tail)))


def _custom(error: SchemaError) -> str | None:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    text = schema.get("errorMessage")
    if not isinstance(text, str) or error.validator in _STRUCTURAL:
        return None
    return text.replace("{value!r}", repr(error.instance)).replace("{value}", str(error.instance))


def _expected(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    nouns = [_t(_NOUNS[t]) if t in _NOUNS else t for t in names]
    if len(nouns) == 1:
        return nouns[0]
    return _t("{first} or {last}", first=", ".join(nouns[:-1]), last=nouns[-1])


def _enum_values(error: SchemaError) -> list[Any]:
    """The allowed values an enum/anyOf error offers (for a did-you-mean)."""
    if error.validator == "enum":
        return list(error.validator_value)
    values: list[Any] = []
    for sub in error.context or []:
        if sub.validator == "enum":
            values.extend(sub.validator_value)
        elif sub.validator == "const":
            values.append(sub.validator_value)
    return values


def _messages(error: SchemaError, path: Path) -> list[tuple[Path, bool, str]]:
    """(path, at_key, message) for one validator error; unknown keys give one each."""
    custom = _custom(error)
    instance = error.instance
    kind = error.validator
    if kind == "additionalProperties" and isinstance(instance, Mapping):
        known = list((error.schema or {}).get("properties", {}))
        patterns = list((error.schema or {}).get("patternProperties", {}))
        extras = [
            k
            for k in instance
            if k not in known and not any(re.search(p, str(k)) for p in patterns)
        ]
        if not known and not patterns:
            return [(path, False, _t("{where} takes no keys", where=_where(path)))]
        return [
            (
                (*path, k),
                True,
                _t("unknown key {key!r} {container}", key=k, container=_container(path))
                + did_you_mean(k, known),
            )
            for k in extras
        ]
    if custom:
        hint = did_you_mean(instance, _enum_values(error)) if isinstance(instance, str) else ""
        return [(path, False, custom + hint)]
    if kind == "type":
        message = _t(
            "expected {expected}, got {value}",
            expected=_expected(error.validator_value),
            value=describe_value(instance),
        )
        wanted = error.validator_value
        if wanted == "string" and isinstance(instance, int | float | bool):
            message += _t(" (put it in quotes so YAML keeps it as text)")
        return [(path, False, message)]
    if kind == "required" and isinstance(instance, Mapping):
        missing = [k for k in error.validator_value if k not in instance]
        words = ", ".join(repr(k) for k in missing)
        plural = "s" if len(missing) > 1 else ""
        return [
            (
                path,
                False,
                _t(
                    "missing required key{plural} {words} in {where}",
                    plural=plural,
                    words=words,
                    where=_where(path),
                ),
            )
        ]
    if kind in ("enum", "const"):
        allowed = error.validator_value if kind == "enum" else [error.validator_value]
        listed = ", ".join(str(v) for v in allowed)
        hint = did_you_mean(instance, allowed) if isinstance(instance, str) else ""
        return [
            (
                path,
                False,
                _t(
                    "{describe_value} is not one of: {listed}{hint}",
                    describe_value=describe_value(instance),
                    listed=listed,
                    hint=hint,
                ),
            )
        ]
    if kind in ("anyOf", "oneOf") and error.context:
        subs = list(error.context)
        if all(s.validator == "type" and not s.relative_path for s in subs):
            types: list[str] = []
            for s in subs:
                vv = s.validator_value
                types.extend([vv] if isinstance(vv, str) else vv)
            message = _t(
                "expected {expected}, got {value}",
                expected=_expected(types),
                value=describe_value(instance),
            )
            return [(path, False, message)]
        inner = best_match(subs)
        return _messages(inner, (*path, *inner.relative_path))
    if kind == "pattern":
        return [
            (
                path,
                False,
                _t(
                    "{describe_value} does not match {validator_value}",
                    describe_value=describe_value(instance),
                    validator_value=error.validator_value,
                ),
            )
        ]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": _t("at least"),
            "maximum": _t("at most"),
            "exclusiveMinimum": _t("more than"),
            "exclusiveMaximum": _t("less than"),
        }[kind]
        return [
            (
                path,
                False,
                _t(
                    "{instance!r} is out of range: it must be {words} {validator_value}",
                    instance=instance,
                    words=words,
                    validator_value=error.validator_value,
                ),
            )
        ]
    if kind in ("minItems", "minLength", "minProperties"):
        if error.validator_value == 1:
            return [(path, False, _t("{where} must not be empty", where=_where(path)))]
        return [(path, False, error.message)]
    if kind == "uniqueItems":
        return [(path, False, _t("{where} lists the same value twice", where=_where(path)))]
    return [(path, False, error.message)]


def schema_errors(
    data: Any, marks: Marks, metaschema: Mapping[str, Any], file: str
) -> list[dict[str, Any]]:
    """Validate ``data`` against ``metaschema``; return one located entry per problem.

    Every error is reported (not only the first), in file order, so an admin
    fixes a file in one pass. ``file`` names the entries even when ``marks``
    came from another reader.
    """
    validator = Draft202012Validator(metaschema)
    entries: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for error in validator.iter_errors(data):
        for path, at_key, message in _messages(error, tuple(error.absolute_path)):
            key = (path, message)
            if key in seen:
                continue
            seen.add(key)
            entry = marks.entry(path, message, at_key=at_key)
            entry["file"] = file
            entries.append(entry)
    entries.sort(key=lambda e: (e["line"] or 0, e["column"] or 0))
    return entries


__all__ = ["describe_value", "did_you_mean", "schema_errors"]

"""Record validation: one validator per entity version, errors a business user can read."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from engine.forms.entity import EntityModel, label_text


def _path(error: Any) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: Any, label: str) -> str:
    v = error.validator
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "a value"
        return f"{missing} is required"
    if v == "maxLength":
        return f"{label} must be at most {error.validator_value} characters"
    if v == "minLength":
        return f"{label} must be at least {error.validator_value} characters"
    if v == "enum":
        allowed = ", ".join(str(x) for x in error.validator_value if x is not None)
        return f"{label} must be one of: {allowed}"
    if v == "format":
        return f"{label} is not a valid {error.validator_value}"
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
        }[v]
        return f"{label} must be {words} {error.validator_value}"
    if v == "type":
        t = error.validator_value
        t = [x for x in t if x != "null"] if isinstance(t, list) else [t]
        return f"{label} must be {' or '.join(t)}"
    if v == "additionalProperties":
        return error.message
    return f"{label}: {error.message}"


class RecordValidator:
    """Validates a record's JSON form against its entity; returns located entries."""

    def __init__(self, model: EntityModel) -> None:
        self.model = model
        self.schema = model.validation_schema()
        self._validator = Draft202012Validator(
            self.schema, format_checker=Draft202012Validator.FORMAT_CHECKER
        )

    def errors(self, doc: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
        out = []
        for error in self._validator.iter_errors(doc):
            path = _path(error)
            if error.validator == "required" and "'" in error.message:
                missing = error.message.split("'")[1]
                path = f"{path}.{missing}" if path else missing
            field = self.model.fields.get(path.split(".")[0].split("[")[0])
            label = label_text(field.label, "en", path) if field else path
            message = _message(error, label)
            if error.validator == "required" and field is not None:
                message = f"{label} is required"
            out.append({"field": prefix + path, "message": message, "code": error.validator})
        out.sort(key=lambda e: e["field"])
        return out

"""What a web form definition means, and the checks a meta-schema cannot make.

A web form publishes some fields of one entity at ``/f/<name>`` for people
without an account. The definition (``webforms/<name>.yaml`` in a bundle, or
saved through the admin API) names the entity, the fields in the order shown
(each optionally with its own label, help text and ``required``), values fixed
on every submission (``source: website``), the user the record is saved as
(``submit_as``; none means the system), the thank-you text, whether the form is
``enabled`` and how many submissions one client address may make per minute.

A form with ``answers`` (``answers: {expires_in: 14d}``) creates nothing: it
fills in the one existing record a one-time link opens (``engine.webforms.links``),
such as the survey a customer answers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.forms.entity import SYSTEM_FIELDS, EntityModel, build_model
from engine.meta.located import did_you_mean

#: Field types a visitor can fill in with a plain HTML input.
PUBLIC_TYPES = (
    "text",
    "long_text",
    "email",
    "phone",
    "url",
    "select",
    "integer",
    "decimal",
    "currency",
    "percent",
    "boolean",
    "date",
)
DEFAULT_RATE_LIMIT = 5  # submissions per minute per client address
#: The hidden field people never see; a value in it marks the submission as a bot's.
HONEYPOT = "homepage_url"

Path = tuple[Any, ...]


@dataclass(frozen=True)
class FormField:
    """One field of a published form: the entity's field plus the form's own wording."""

    key: str
    label: Any  # the form's label, or None to use the entity's
    help: Any
    required: bool


def form_fields(definition: Mapping[str, Any]) -> list[FormField]:
    """The form's fields in order, each entry normalised to :class:`FormField`."""
    out = []
    for item in definition.get("fields") or []:
        if isinstance(item, str):
            out.append(FormField(item, None, None, False))
        elif isinstance(item, dict) and isinstance(item.get("field"), str):
            out.append(
                FormField(
                    item["field"], item.get("label"), item.get("help"), bool(item.get("required"))
                )
            )
    return out


def _field_items(definition: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    for index, item in enumerate(definition.get("fields") or []):
        if isinstance(item, str):
            yield ("fields", index), item
        elif isinstance(item, dict) and isinstance(item.get("field"), str):
            yield ("fields", index, "field"), item["field"]


def _model(definition: Mapping[str, Any]) -> EntityModel | None:
    try:
        return build_model(dict(definition))
    except Exception:  # a broken entity is reported by the entity checks
        return None


def field_problem(model: EntityModel, key: str, *, shown: bool) -> str | None:
    """Why ``key`` cannot be on (``shown``) or fixed by a public form of ``model``, or None."""
    f = model.fields.get(key)
    if key in SYSTEM_FIELDS:
        return f"{key!r} is maintained by the engine; a web form cannot set it"
    if f is None or f.removed:
        known = [k for k, v in model.fields.items() if not v.removed]
        return f"{model.name} has no field {key!r}{did_you_mean(key, known)}"
    if f.computed:
        return f"{model.name}.{key} is computed; a web form cannot set it"
    if f.read_only:
        return f"{model.name}.{key} is read-only; a web form cannot set it"
    if shown and f.type.name not in PUBLIC_TYPES:
        return (
            f"{model.name}.{key} is a {f.type.name} field, which a public form cannot show "
            f"(use one of: {', '.join(PUBLIC_TYPES)})"
        )
    return None


def webform_problems(
    definition: Mapping[str, Any], entities: Mapping[str, Any]
) -> list[tuple[Path, str]]:
    """(path in the definition, message) for each problem across the form and its entity."""
    problems: list[tuple[Path, str]] = []
    entity = definition.get("entity")
    if not isinstance(entity, str):
        return problems
    if entity not in entities:
        problems.append(
            (
                ("entity",),
                f"entity {entity!r} is neither in this bundle nor installed"
                f"{did_you_mean(entity, entities)}",
            )
        )
        return problems
    model = _model(entities[entity])
    if model is None:
        return problems
    seen: set[str] = set()
    for path, key in _field_items(definition):
        if key in seen:
            problems.append((path, f"{key!r} is shown twice"))
            continue
        seen.add(key)
        if (problem := field_problem(model, key, shown=True)) is not None:
            problems.append((path, problem))
    fixed = definition.get("fixed")
    for key in fixed if isinstance(fixed, dict) else {}:
        if (problem := field_problem(model, key, shown=False)) is not None:
            problems.append((("fixed", key), problem))
        elif key in seen:
            problems.append(
                (("fixed", key), f"{key!r} is both shown and fixed; drop it from one of them")
            )
    fixed_keys = set(fixed) if isinstance(fixed, dict) else set()
    if isinstance(definition.get("answers"), dict):
        return problems  # the record exists already: its required fields are filled
    for key in sorted(model.fields):
        f = model.fields[key]
        defaulted = f.prop.get("x-default") is not None or "default" in f.prop
        if f.required and not (f.removed or f.read_only or defaulted or key in seen | fixed_keys):
            problems.append(
                (("fields",), f"{entity}.{key} is required; show it on the form or fix its value")
            )
    return problems


def check_webform_files(source: Any, installed: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Located entries for the ``webforms/*.yaml`` files of a bundle (see ``webform_problems``)."""
    files = source.items("webform")
    if not files:
        return []
    entities = dict(installed)
    for sf in source.items("entity"):
        if isinstance(sf.data, dict):
            entities[sf.name] = sf.data
    errors = []
    for sf in files:
        if not isinstance(sf.data, dict) or sf.marks is None:
            continue
        for path, message in webform_problems(sf.data, entities):
            errors.append(sf.marks.entry(path, message))
    return errors


__all__ = [
    "DEFAULT_RATE_LIMIT",
    "HONEYPOT",
    "PUBLIC_TYPES",
    "FormField",
    "check_webform_files",
    "field_problem",
    "form_fields",
    "webform_problems",
]

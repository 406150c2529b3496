"""An entity's form logic as one browser script: computed fields and field conditions.

The form page evaluates ``x-computed``, ``x-visible-when``, ``x-required-when``
and ``x-readonly-when`` live while the user types, with the same rule-language
compiler the server uses (``engine.rules.compile_js``). This module joins the
runtime and each expression's compiled function into a script that registers
``globalThis.TesseraForms[<entity>]``; ``sections`` holds the layout's
section conditions by section number (``engine.forms.sections``). Every name is emitted with
:func:`~engine.rules.compile_js.js_literal`, so no definition text can break
out of a string; the script is served as a file (CSP ``script-src 'self'``).

An expression that does not compile for the browser (a function without a
JavaScript spelling) or reads through a reference (``account.region``: the
page does not hold the related record) is left out and named in ``skipped``;
the server still computes and enforces it on save.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.errors import TesseraError
from engine.forms.sections import layout_sections
from engine.rules.compile_js import JsUnsupported, js_literal
from engine.rules.js import runtime_source

#: keyword on a field → the key of the script's table.
CONDITIONS = {
    "x-computed": "computed",
    "x-visible-when": "visible",
    "x-required-when": "required",
    "x-readonly-when": "readonly",
}


def form_expressions(model: Any) -> dict[str, dict[str, str]]:
    """``{computed|visible|required|readonly: {field: expression text}}`` of a model."""
    out: dict[str, dict[str, str]] = {kind: {} for kind in CONDITIONS.values()}
    for f in model.active_fields():
        for keyword, kind in CONDITIONS.items():
            text = f.prop.get(keyword)
            if isinstance(text, str) and text.strip():
                out[kind][f.key] = text
    return out


#: rule set kinds the form previews (they only write a value into the record).
PREVIEW_KINDS = ("scoring", "grading")


def _previews(platform: Any, entity: str, skipped: list[str]) -> list[str]:
    """``{ruleset, target, run}`` per scoring and grading rule set, in save order."""
    from engine.rules.compile_js_rules import compile_js_ruleset

    live = platform.save_hook.live()
    out = []
    for s in live.for_entity(entity).stages:
        target = s.compiled.target
        if s.kind not in PREVIEW_KINDS or s.checked is None or not isinstance(target, str):
            continue
        try:
            js = compile_js_ruleset(s.compiled.node, s.checked, platform.rules.tz)
        except JsUnsupported:
            skipped.append(f"preview:{s.name}")
            continue
        out.append(
            f"    {{ruleset: {js_literal(s.name)}, target: {js_literal(target)}, run: {js}}}"
        )
    return out


def form_script(platform: Any, entity: str) -> str:
    """The runtime plus ``TesseraForms[entity] = {tz, kinds, computed, visible, ...}``.

    ``preview`` holds the entity's scoring and grading rule sets, so the form shows
    the score and grade a save would give while the user types (the save decides).
    """
    model = platform.entities.get(entity).model
    return _script(platform, model, lambda text: platform.rules.compile(text, entity), True)


def draft_script(platform: Any, definition: dict[str, Any]) -> str:
    """The same script for an unsaved definition (the designer's live preview).

    Its expressions are checked against the draft, not the live entity, so a condition
    on a field added a moment ago works in the preview; rule sets are left out (they
    belong to the saved entity).
    """
    from engine.forms.entity import build_model
    from engine.rules.service import RuleService

    name = definition["name"]
    defs = {n: platform.entities.get(n).model.definition for n in platform.entities.names()}
    defs[name] = definition
    service = RuleService(defs.get, entities=sorted(defs), timezone=platform.clock.timezone.key)
    model = build_model(definition)
    return _script(platform, model, lambda text: service.compile(text, name), False)


def _compiled_js(compile_text: Callable[[str], Any], text: str) -> str:
    compiled = compile_text(text)
    # a path through a reference needs the related record, which the page
    # does not have: the server computes it on save
    if any("." in path for path in compiled.reads()):
        raise JsUnsupported(text)
    return str(compiled.js())


def _script(
    platform: Any, model: Any, compile_text: Callable[[str], Any], with_rulesets: bool
) -> str:
    entity = model.name
    parts: list[str] = []
    skipped: list[str] = []
    for kind, exprs in form_expressions(model).items():
        entries = []
        for key, text in sorted(exprs.items()):
            try:
                js = _compiled_js(compile_text, text)
            except (JsUnsupported, TesseraError):
                skipped.append(f"{kind}:{key}")
                continue
            entries.append(f"    [{js_literal(key)}]: {js}")
        parts.append(f"  {kind}: {{\n" + ",\n".join(entries) + "\n  }")
    sections = []
    for index, (_section, when) in enumerate(layout_sections(model.definition)):
        if when is None:
            continue
        try:
            sections.append(f"    [{js_literal(str(index))}]: {_compiled_js(compile_text, when)}")
        except (JsUnsupported, TesseraError):
            skipped.append(f"section:{index}")
    parts.append("  sections: {\n" + ",\n".join(sections) + "\n  }")
    previews = _previews(platform, entity, skipped) if with_rulesets else []
    parts.append("  preview: [\n" + ",\n".join(previews) + "\n  ]")
    kinds = {f.key: f.type.name for f in model.active_fields()}
    calendar = platform.rules.calendar  # the bundle's working calendar, with its holidays
    head = [
        f"  tz: {js_literal(platform.clock.timezone.key)}",
        f"  calendar: {js_literal(calendar.to_config() if calendar is not None else None)}",
        f"  kinds: {js_literal(kinds)}",
        f"  skipped: {js_literal(skipped)}",
    ]
    body = ",\n".join(head + parts)
    return (
        runtime_source()
        + "\n(globalThis.TesseraForms = globalThis.TesseraForms || {})"
        + f"[{js_literal(entity)}] = {{\n{body}\n}};\n"
    )


__all__ = ["CONDITIONS", "draft_script", "form_expressions", "form_script"]

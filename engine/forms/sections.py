"""Sections shown on a condition: ``x-visible-when`` on a layout section or a tab.

A section (or tab) may carry a rule-language condition; while it does not hold
for the record, the section is hidden together with its fields. The form page
hides it live (``engine.forms.live_script`` compiles the conditions for the
browser) and the server agrees: a required field in a hidden section is not
required, since the user never saw it. Both sides number the sections the same
way, in page order, through :func:`layout_sections`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: the keyword a section or a tab carries its condition under.
VISIBLE_WHEN = "x-visible-when"


def _when(*texts: Any) -> str | None:
    parts = [t.strip() for t in texts if isinstance(t, str) and t.strip()]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else " and ".join(f"({p})" for p in parts)


def layout_sections(definition: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    """Every section of the layout in page order, with the condition that shows it.

    A tab's condition applies to each of its sections (joined with the section's own by
    ``and``). The position in this list is the section's number on the form page.
    """
    out: list[tuple[dict[str, Any], str | None]] = []
    for item in definition.get("layout") or []:
        if not isinstance(item, dict):
            continue
        if "tabs" in item:
            for tab in item.get("tabs") or []:
                if not isinstance(tab, dict):
                    continue
                tab_when = tab.get(VISIBLE_WHEN)
                if tab.get("fields"):
                    out.append((tab, _when(tab_when)))
                for s in tab.get("sections") or []:
                    if isinstance(s, dict):
                        out.append((s, _when(tab_when, s.get(VISIBLE_WHEN))))
        else:
            out.append((item, _when(item.get(VISIBLE_WHEN))))
    return out


def hidden_fields(
    definition: dict[str, Any],
    record: dict[str, Any],
    compile_condition: Callable[[str], Callable[[dict[str, Any]], Any]],
) -> set[str]:
    """The keys of the fields in sections whose condition does not hold for ``record``.

    ``compile_condition(text)`` returns a callable taking the record (the platform's
    ``rules.compile`` over the entity). A condition that fails to compile or to run leaves
    its section shown: the server then asks for what the section holds, never less.
    """
    hidden: set[str] = set()
    for section, when in layout_sections(definition):
        if when is None:
            continue
        try:
            shown = compile_condition(when)(record) is True
        except Exception:  # a broken condition must not relax a check
            shown = True
        if not shown:
            hidden.update(k for k in section.get("fields") or [] if isinstance(k, str))
    return hidden


def unless_hidden(
    errors: list[dict[str, Any]],
    definition: dict[str, Any],
    record: dict[str, Any],
    compile_condition: Callable[[str], Callable[[dict[str, Any]], Any]],
    prefix: str = "",
) -> list[dict[str, Any]]:
    """``errors`` without "required" for the fields of sections hidden for ``record``.

    Every save path that checks a record against its schema passes its errors through
    here, so the form and the API agree on what a hidden section asks for (nothing).
    """
    if not any(e.get("code") == "required" for e in errors):
        return errors
    hidden = hidden_fields(definition, record, compile_condition)
    if not hidden:
        return errors
    return [
        e
        for e in errors
        if not (e.get("code") == "required" and str(e.get("field")).removeprefix(prefix) in hidden)
    ]


__all__ = ["VISIBLE_WHEN", "hidden_fields", "layout_sections", "unless_hidden"]

"""The record page's action buttons (a lead's Convert) and the preview their dialog shows.

The preview is worked out on the server when the page renders, with the same
engine call the API's preview uses, so the dialog tells the user what will be
created, which existing record will be reused (a customer of the same
normalised name) and which required field is still empty, before anything is
written. Running the action is the browser's ``POST`` to the API
(``web/actions_api.py``); this module only renders.
"""

from __future__ import annotations

from typing import Any

from web.http import platform_of
from web.i18n import label
from web.ui.display import display_value


def _fields(entity: str, values: dict[str, Any]) -> list[dict[str, str]]:
    """The values a new record will get, labelled and shown as the record page shows them."""

    model = platform_of().entities.get(entity).model
    out = []
    for key, value in values.items():
        f = model.fields.get(key)
        if f is None or value in (None, "", []):
            continue
        out.append({"key": key, "label": label(f.label, key), "display": display_value(f, value)})
    return out


def _where(entity: str, target: str, missing: dict[str, Any]) -> dict[str, Any]:
    """A missing-field entry with the label of the field to fill in (on the record, or the target)."""
    p = platform_of()
    key = str(missing.get("field") or "")
    source = p.entities.get(entity).model.fields.get(key)
    if source is not None:
        return {**missing, "field_label": label(source.label, key)}
    field = p.entities.get(target).model.fields.get(key.rsplit(".", 1)[-1])
    return {**missing, "field_label": label(field.label, key) if field is not None else key}


def action_panels(entity: str, record: dict[str, Any], user: str) -> list[dict[str, Any]]:
    """Each action ``user`` may run on ``record`` now, with its labelled preview."""
    from engine.record_actions.convert import RecordActions

    p = platform_of()
    actions = RecordActions(p)
    access = p.access(user)
    panels = []
    for action in actions.available(entity, record, user):
        plan = actions.plan(action, record, (), {})
        targets = []
        for item in plan:
            t = item.target
            entity_label = label(p.entities.get(t.entity).model.label, t.entity)
            targets.append(
                {
                    "name": t.name,
                    "entity": t.entity,
                    "label": label(t.label, entity_label),
                    "optional": t.optional,
                    # an optional record the user may not create is offered unticked and locked
                    "allowed": item.reuse is not None or bool(access.scopes(t.entity, "create")),
                    "reuse": item.reuse,
                    "fields": _fields(t.entity, item.values),
                    "missing": [_where(entity, t.entity, m) for m in item.missing],
                }
            )
        panels.append(
            {
                "name": action.name,
                "label": label(action.label, action.name),
                "description": label(action.description, ""),
                "targets": targets,
                "blocked": any(t["missing"] for t in targets),
            }
        )
    return panels


__all__ = ["action_panels"]

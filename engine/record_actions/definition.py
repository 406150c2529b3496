"""What an entity's ``actions:`` declare, and the checks a meta-schema cannot make.

A ``convert`` action turns one record (the source) into records of other
entities (the targets) in one transaction, like EspoCRM's ``convertFields``::

    actions:
      - name: convert
        type: convert
        label: {en: Convert, zh-CN: 转化}
        mark: {status: converted}        # set on the source; a source already so is refused
        open: account                    # the target the user is taken to afterwards
        targets:
          - name: account
            entity: account
            fields: {name: company, industry: industry}   # target field: source field
            values: {lifecycle: prospect}                 # fixed values
            reuse: {name_norm: company_norm}              # an existing record with these is reused
            link: account                                 # the source field that keeps its id
          - name: contact
            entity: contact
            fields: {full_name: person_name}
            refs: {account: account}                      # target field: id of an earlier target
          - name: opportunity
            entity: opportunity
            optional: true                                # the user may leave it out
            backlink: lead                                # target field that points at the source

The field map is data, so a bundle changes what conversion copies without code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.meta.located import did_you_mean

Path = tuple[Any, ...]
#: (path, message) or (path, message, True) when the key at ``path`` is what is wrong.
Problem = tuple[Any, ...]


@dataclass(frozen=True)
class ConvertTarget:
    """One record a conversion creates (or reuses)."""

    name: str
    entity: str
    label: Any = None
    optional: bool = False
    fields: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    backlink: str | None = None
    reuse: dict[str, str] = field(default_factory=dict)
    link: str | None = None


@dataclass(frozen=True)
class ConvertAction:
    """A ``convert`` action of one entity: its targets in creation order."""

    name: str
    entity: str
    label: Any
    description: Any
    mark: dict[str, Any]
    open: str | None
    targets: tuple[ConvertTarget, ...]

    def target(self, name: str) -> ConvertTarget | None:
        return next((t for t in self.targets if t.name == name), None)


def _target(item: Mapping[str, Any]) -> ConvertTarget:
    return ConvertTarget(
        name=str(item["name"]),
        entity=str(item["entity"]),
        label=item.get("label"),
        optional=bool(item.get("optional")),
        fields=dict(item.get("fields") or {}),
        values=dict(item.get("values") or {}),
        refs=dict(item.get("refs") or {}),
        backlink=item.get("backlink"),
        reuse=dict(item.get("reuse") or {}),
        link=item.get("link"),
    )


def actions_of(definition: Mapping[str, Any]) -> dict[str, ConvertAction]:
    """The actions an entity definition declares, by name (a checked definition is assumed)."""
    out: dict[str, ConvertAction] = {}
    for item in definition.get("actions") or []:
        if not isinstance(item, dict) or item.get("type") != "convert":
            continue
        out[str(item["name"])] = ConvertAction(
            name=str(item["name"]),
            entity=str(definition["name"]),
            label=item.get("label"),
            description=item.get("description"),
            mark=dict(item.get("mark") or {}),
            open=item.get("open"),
            targets=tuple(_target(t) for t in item.get("targets") or [] if isinstance(t, dict)),
        )
    return out


def _props(definition: Mapping[str, Any] | None) -> dict[str, Any]:
    schema = (definition or {}).get("schema") or {}
    props = schema.get("properties") if isinstance(schema, dict) else None
    return props if isinstance(props, dict) else {}


def _ref_of(prop: Any) -> str | None:
    return prop.get("x-ref") if isinstance(prop, dict) else None


def action_problems(definition: Mapping[str, Any], entities: Mapping[str, Any]) -> list[Problem]:
    """(path in the entity definition, message[, at_key]) for each problem of its ``actions``.

    ``entities`` maps every known entity name to its definition, so a target
    may be an entity of this bundle or of one already installed.
    """
    problems: list[Problem] = []
    source = _props(definition)
    seen_actions: set[str] = set()
    for a, action in enumerate(definition.get("actions") or []):
        if not isinstance(action, dict):
            continue
        base: Path = ("actions", a)
        if action.get("name") in seen_actions:
            problems.append(((*base, "name"), f"action {action.get('name')!r} is declared twice"))
        seen_actions.add(action.get("name"))
        for key in action.get("mark") or {}:
            if key not in source:
                problems.append(
                    (
                        (*base, "mark", key),
                        f"mark sets {key!r}, which is not a field{did_you_mean(key, source)}",
                        True,
                    )
                )
        names: list[str] = []
        for t, item in enumerate(action.get("targets") or []):
            if not isinstance(item, dict):
                continue
            tp: Path = (*base, "targets", t)
            problems += _target_problems(item, tp, source, names, entities, definition)
            names.append(str(item.get("name")))
        opened = action.get("open")
        if isinstance(opened, str) and opened not in names:
            problems.append(
                (
                    (*base, "open"),
                    f"open names {opened!r}, which is not a target{did_you_mean(opened, names)}",
                )
            )
    return problems


def _target_problems(
    item: Mapping[str, Any],
    tp: Path,
    source: Mapping[str, Any],
    earlier: list[str],
    entities: Mapping[str, Any],
    definition: Mapping[str, Any],
) -> list[Problem]:
    problems: list[Problem] = []
    name, entity = item.get("name"), item.get("entity")
    if name in earlier:
        problems.append(((*tp, "name"), f"target {name!r} is declared twice"))
    if entity not in entities:
        problems.append(
            (
                (*tp, "entity"),
                f"entity {entity!r} is neither in this bundle nor installed{did_you_mean(str(entity), entities)}",
            )
        )
        return problems
    target = _props(entities[entity])
    for part in ("fields", "values", "refs", "reuse"):
        for key in item.get(part) or {}:
            if key not in target:
                problems.append(
                    (
                        (*tp, part, key),
                        f"{entity} has no field {key!r}{did_you_mean(key, target)}",
                        True,
                    )
                )
    for part in ("fields", "reuse"):
        for key, src in (item.get(part) or {}).items():
            if isinstance(src, str) and src not in source:
                problems.append(
                    (
                        (*tp, part, key),
                        f"{definition.get('name')} has no field {src!r}{did_you_mean(src, source)}",
                    )
                )
    for key, ref in (item.get("refs") or {}).items():
        if ref not in earlier:
            problems.append(
                (
                    (*tp, "refs", key),
                    f"refs names {ref!r}, which is not an earlier target{did_you_mean(str(ref), earlier)}",
                )
            )
    backlink = item.get("backlink")
    if isinstance(backlink, str) and _ref_of(target.get(backlink)) != definition.get("name"):
        problems.append(
            (
                (*tp, "backlink"),
                f"{entity}.{backlink} is not a reference to {definition.get('name')}",
            )
        )
    link = item.get("link")
    if isinstance(link, str) and _ref_of(source.get(link)) != entity:
        problems.append(
            ((*tp, "link"), f"{definition.get('name')}.{link} is not a reference to {entity}")
        )
    return problems


def check_action_files(source: Any, installed: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Located entries for the ``actions`` of every entity file of a bundle."""
    files = source.items("entity")
    entities = dict(installed)
    for sf in files:
        if isinstance(sf.data, dict):
            entities[sf.name] = sf.data
    errors = []
    for sf in files:
        if not isinstance(sf.data, dict) or sf.marks is None or not sf.data.get("actions"):
            continue
        for path, message, *at_key in action_problems(sf.data, entities):
            errors.append(sf.marks.entry(path, message, at_key=bool(at_key)))
    return errors


__all__ = [
    "ConvertAction",
    "ConvertTarget",
    "action_problems",
    "actions_of",
    "check_action_files",
]

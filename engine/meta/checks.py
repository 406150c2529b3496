"""Semantic checks of a read bundle: what a meta-schema cannot say.

A meta-schema checks one file's shape; these checks look across fields and
files: a reference must name an entity that will exist, a layout must show
fields that are defined, a field type must be registered and happy with its
options, and a manifest must depend on bundles that are installed. Every
entry is located, so ``tessera check`` can print ``file:line:col``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from engine.errors import BundleError
from engine.forms.entity import CHILD_SYSTEM_FIELDS, MAX_FIELDS, SYSTEM_FIELDS, resolve_type
from engine.forms.fieldtypes import field_types
from engine.i18n import t as _t
from engine.meta.located import did_you_mean
from engine.meta.reader import BundleSource, SourceFile, read_bundle
from engine.meta.yamlpos import Marks
from engine.meta.yamlpos import Path as DataPath
from engine.record_actions.definition import check_action_files
from engine.webforms.definition import check_webform_files

FIELD_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
#: ``x-type`` values the model resolves without a registered type of that name.
_PSEUDO_TYPES = ("computed",)


class _Entity:
    """What the checks of one entity file need at hand."""

    def __init__(self, sf: SourceFile, known_entities: Collection[str]) -> None:
        self.sf = sf
        self.marks: Marks = sf.marks or Marks(sf.relpath)
        self.data: dict[str, Any] = sf.data if isinstance(sf.data, dict) else {}
        self.known = known_entities
        self.errors: list[dict[str, Any]] = []

    def error(self, path: DataPath, message: str, *, at_key: bool = False) -> None:
        self.errors.append(self.marks.entry(path, message, at_key=at_key))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _check_properties(ent: _Entity, schema: dict[str, Any], base: DataPath, child: bool) -> None:
    """Check one object schema's fields (the entity's, or a child table's rows)."""
    props = _mapping(schema.get("properties"))
    reserved = CHILD_SYSTEM_FIELDS if child else SYSTEM_FIELDS
    where = _t("child table rows") if child else "records"
    for key, prop in props.items():
        path = (*base, "properties", key)
        if not FIELD_KEY.fullmatch(key) or len(key) > 63:
            ent.error(
                path,
                _t(
                    "field key {key!r} is not an identifier: use lower-case letters, digits and underscores, starting with a letter (put the display name in x-label)",
                    key=key,
                ),
                at_key=True,
            )
        if key in reserved:
            ent.error(
                path,
                _t(
                    "field {key!r} collides with a system field: the engine keeps {key!r} on all {where} ({reserved}); choose another key",
                    key=key,
                    where=where,
                    reserved=", ".join(reserved),
                ),
                at_key=True,
            )
        if isinstance(prop, dict):
            _check_property(ent, key, prop, path, props)
    for index, name in enumerate(schema.get("required") or []):
        if isinstance(name, str) and name not in props:
            ent.error(
                (*base, "required", index),
                _t(
                    "required names {name!r}, which is not a field{did_you_mean}",
                    name=name,
                    did_you_mean=did_you_mean(name, props),
                ),
            )


def _check_property(
    ent: _Entity, key: str, prop: dict[str, Any], path: DataPath, siblings: Mapping[str, Any]
) -> None:
    types = field_types()
    xtype = prop.get("x-type")
    ftype = None
    if isinstance(xtype, str) and xtype not in _PSEUDO_TYPES:
        if xtype in types:
            ftype = types[xtype]
        else:
            ent.error(
                (*path, "x-type"),
                _t(
                    "unknown field type {xtype!r}{did_you_mean}",
                    xtype=xtype,
                    did_you_mean=did_you_mean(xtype, [*types, *_PSEUDO_TYPES]),
                ),
            )
    else:
        ftype = resolve_type(prop)
    if ftype is not None:
        options = list(ftype.config_schema.get("properties") or {})
        at = next((o for o in options if o in prop), None)
        for problem in ftype.check_definition(prop):
            ent.error((*path, at) if at else path, problem)
    ref = prop.get("x-ref")
    if isinstance(ref, str) and ref not in ent.known:
        ent.error(
            (*path, "x-ref"),
            _t(
                "x-ref names entity {ref!r}, which is neither in this bundle nor installed{did_you_mean}",
                ref=ref,
                did_you_mean=did_you_mean(ref, ent.known),
            ),
        )
    renamed = prop.get("x-renamed-from")
    if isinstance(renamed, str) and renamed in siblings and renamed != key:
        ent.error(
            (*path, "x-renamed-from"),
            _t(
                "{key!r} is renamed from {renamed!r}, but {renamed!r} is still defined; remove the old field or drop x-renamed-from",
                key=key,
                renamed=renamed,
            ),
        )
    labels = prop.get("x-options-labels")
    enum = prop.get("enum") or _mapping(prop.get("items")).get("enum")
    if isinstance(labels, dict) and isinstance(enum, list):
        for option in labels:
            if option not in enum:
                ent.error(
                    (*path, "x-options-labels", option),
                    _t(
                        "x-options-labels names {option!r}, which is not an option{did_you_mean}",
                        option=option,
                        did_you_mean=did_you_mean(option, enum),
                    ),
                    at_key=True,
                )
    items = prop.get("items")
    if isinstance(items, dict) and isinstance(items.get("properties"), dict):
        _check_properties(ent, items, (*path, "items"), child=True)


def _layout_fields(layout: Any) -> Iterator[tuple[DataPath, Any]]:
    """(path, name) of every field a layout shows, through sections and tabs."""
    if not isinstance(layout, list):
        return
    for i, block in enumerate(layout):
        block = _mapping(block)
        if "tabs" in block:
            for t, tab in enumerate(block.get("tabs") or []):
                for s, section in enumerate(_mapping(tab).get("sections") or []):
                    base = ("layout", i, "tabs", t, "sections", s)
                    for f, name in enumerate(_mapping(section).get("fields") or []):
                        yield (*base, "fields", f), name
        else:
            for f, name in enumerate(block.get("fields") or []):
                yield ("layout", i, "fields", f), name


def check_entities(source: BundleSource, installed: Mapping[str, dict]) -> list[dict[str, Any]]:
    """Check every entity of ``source`` beyond its meta-schema; return located entries.

    ``installed`` maps the names of entities already in the database to their
    definitions, so a bundle may reference entities of the bundles it depends
    on. Nothing is raised: the caller gathers entries from every check first.
    """
    entities = source.items("entity")
    known = sorted({*installed, *(sf.name for sf in entities)})
    errors: list[dict[str, Any]] = []
    for sf in entities:
        ent = _Entity(sf, known)
        schema = _mapping(ent.data.get("schema"))
        props = _mapping(schema.get("properties"))
        if len(props) > MAX_FIELDS:
            ent.error(
                ("schema", "properties"),
                _t(
                    "{name} has {n_props} fields; an entity may have at most {max_fields} (split it, or move repeating data into a child table)",
                    name=sf.name,
                    n_props=len(props),
                    max_fields=MAX_FIELDS,
                ),
                at_key=True,
            )
        _check_properties(ent, schema, ("schema",), child=False)
        title = ent.data.get("title_field")
        if isinstance(title, str) and title not in props:
            ent.error(
                ("title_field",),
                _t(
                    "title_field {title!r} is not a field{did_you_mean}",
                    title=title,
                    did_you_mean=did_you_mean(title, props),
                ),
            )
        for path, name in _layout_fields(ent.data.get("layout")):
            if isinstance(name, str) and name not in props:
                ent.error(
                    path,
                    _t(
                        "layout shows {name!r}, which is not a field{did_you_mean}",
                        name=name,
                        did_you_mean=did_you_mean(name, props),
                    ),
                )
        errors.extend(ent.errors)
    return errors


def _menu_items(menus: Any, base: DataPath) -> Iterator[tuple[DataPath, dict[str, Any]]]:
    if not isinstance(menus, list):
        return
    for i, item in enumerate(menus):
        if isinstance(item, dict):
            yield (*base, i), item
            yield from _menu_items(item.get("items"), (*base, i, "items"))


def check_manifest(
    source: BundleSource,
    installed_bundles: Collection[str],
    installed: Mapping[str, Collection[str]] | None = None,
) -> list[dict[str, Any]]:
    """Check ``bundle.yaml`` against what exists; return located entries.

    ``installed_bundles`` names the bundles already in the database (a
    dependency must be installed first). ``installed`` maps a kind (``entity``,
    ``report``, ``dashboard``) to the names already in the database, so a menu
    may point into a dependency.
    """
    marks = source.manifest_marks
    manifest = source.manifest
    installed = installed or {}
    errors: list[dict[str, Any]] = []
    for index, dep in enumerate(manifest.get("depends") or []):
        if not isinstance(dep, str):
            continue
        if dep == source.name:
            errors.append(
                marks.entry(("depends", index), _t("bundle {dep!r} depends on itself", dep=dep))
            )
        elif dep not in installed_bundles:
            errors.append(
                marks.entry(
                    ("depends", index),
                    _t(
                        "depends on bundle {dep!r}, which is not installed; install it first{did_you_mean}",
                        dep=dep,
                        did_you_mean=did_you_mean(dep, installed_bundles),
                    ),
                )
            )
    for path, item in _menu_items(manifest.get("menus"), ("menus",)):
        for kind in ("entity", "report", "dashboard"):
            target = item.get(kind)
            if not isinstance(target, str):
                continue
            known = {*installed.get(kind, ()), *(sf.name for sf in source.items(kind))}
            if target not in known:
                errors.append(
                    marks.entry(
                        (*path, kind),
                        _t(
                            "menu points at {kind} {target!r}, which is neither in this bundle nor installed{did_you_mean}",
                            kind=kind,
                            target=target,
                            did_you_mean=did_you_mean(target, known),
                        ),
                    )
                )
    errors.extend(_check_tasks(source, installed))
    return errors


def _check_tasks(
    source: BundleSource, installed: Mapping[str, Collection[str]]
) -> list[dict[str, Any]]:
    """``tasks``: the entity exists and the fields named for title, due and rule are its own."""
    tasks = source.manifest.get("tasks")
    if not isinstance(tasks, dict) or not isinstance(tasks.get("entity"), str):
        return []
    marks, entity = source.manifest_marks, tasks["entity"]
    own = {sf.name: sf for sf in source.items("entity")}
    known = {*installed.get("entity", ()), *own}
    if entity not in known:
        text = _t(
            "tasks go to entity {entity!r}, which is neither in this bundle nor installed",
            entity=entity,
        )
        return [marks.entry(("tasks", "entity"), text + did_you_mean(entity, known))]
    if entity not in own:
        return []
    data = own[entity].data if isinstance(own[entity].data, dict) else {}
    props = set((data.get("schema") or {}).get("properties") or {})
    errors = []
    for key in ("title", "due", "rule"):
        name = tasks.get(key)
        if isinstance(name, str) and name not in props:
            errors.append(
                marks.entry(
                    ("tasks", key),
                    _t(
                        "{name!r} is not a field of {entity}{did_you_mean}",
                        name=name,
                        entity=entity,
                        did_you_mean=did_you_mean(name, props),
                    ),
                )
            )
    return errors


def _entity_fields(source: BundleSource, installed: Mapping[str, dict]) -> dict[str, set[str]]:
    """Entity name → its field keys, for the bundle's entities and the installed ones."""
    out: dict[str, set[str]] = {}
    for name, definition in installed.items():
        props = _mapping(_mapping(_mapping(definition).get("schema")).get("properties"))
        out[name] = set(props)
    for sf in source.items("entity"):
        data = _mapping(sf.data)
        out[sf.name] = set(_mapping(_mapping(data.get("schema")).get("properties")))
    return out


def check_permissions(
    source: BundleSource, installed: Mapping[str, dict], installed_roles: Collection[str] = ()
) -> list[dict[str, Any]]:
    """Check the permission table's names against the roles, entities and fields that exist.

    A row for a misspelt role or entity would grant nothing and fail silently,
    so it is an error. Roles are those of the permissions file, the manifest's
    ``roles``, ``installed_roles`` and ``admin``.
    """
    fields = _entity_fields(source, installed)
    errors: list[dict[str, Any]] = []
    for sf in source.items("permissions"):
        marks = sf.marks or Marks(sf.relpath)
        data = _mapping(sf.data)
        roles = {
            "admin",
            *installed_roles,
            *_mapping(data.get("roles")),
            *(r for r in source.manifest.get("roles") or [] if isinstance(r, str)),
        }
        rows = data.get("permissions") if isinstance(data.get("permissions"), list) else []
        for index, row in enumerate(rows):
            row = _mapping(row)
            role, entity = row.get("role"), row.get("entity")
            if isinstance(role, str) and role not in roles:
                errors.append(
                    marks.entry(
                        ("permissions", index, "role"),
                        _t(
                            "role {role!r} is not defined; add it under 'roles'{did_you_mean}",
                            role=role,
                            did_you_mean=did_you_mean(role, roles),
                        ),
                    )
                )
            if not isinstance(entity, str):
                continue
            if entity not in fields:
                errors.append(
                    marks.entry(
                        ("permissions", index, "entity"),
                        _t(
                            "entity {entity!r} is neither in this bundle nor installed{did_you_mean}",
                            entity=entity,
                            did_you_mean=did_you_mean(entity, fields),
                        ),
                    )
                )
                continue
            known = fields[entity] | set(SYSTEM_FIELDS)
            for key in _mapping(row.get("fields")):
                if key not in known:
                    errors.append(
                        marks.entry(
                            ("permissions", index, "fields", key),
                            _t(
                                "{entity} has no field {key!r}{did_you_mean}",
                                entity=entity,
                                key=key,
                                did_you_mean=did_you_mean(key, known),
                            ),
                            at_key=True,
                        )
                    )
    return errors


def check_seed(source: BundleSource, installed: Mapping[str, dict]) -> list[dict[str, Any]]:
    """Check that each seed file is named after an entity and holds a list of records.

    Record values are validated by the record service when the seed is
    loaded; here only what would make that step meaningless is refused.
    """
    fields = _entity_fields(source, installed)
    errors: list[dict[str, Any]] = []
    for sf in source.items("seed"):
        marks = sf.marks or Marks(sf.relpath)
        if sf.name not in fields:
            errors.append(
                marks.entry(
                    (),
                    _t(
                        "seed file {relpath} is named after no entity; name it <entity>{suffix}{did_you_mean}",
                        relpath=sf.relpath,
                        suffix=Path(sf.relpath).suffix,
                        did_you_mean=did_you_mean(sf.name, fields),
                    ),
                )
            )
            continue
        if not isinstance(sf.data, list):
            errors.append(marks.entry((), _t("seed data is a list of records (one mapping each)")))
            continue
        reported: set[str] = set()
        for index, row in enumerate(sf.data):
            if not isinstance(row, dict):
                errors.append(
                    marks.entry((index,), _t("each seed record is a mapping of field: value"))
                )
                continue
            for key in row:
                if key not in fields[sf.name] and key not in {*SYSTEM_FIELDS, *reported}:
                    reported.add(key)
                    errors.append(
                        marks.entry(
                            (index, key),
                            _t(
                                "{name} has no field {key!r}{did_you_mean}",
                                name=sf.name,
                                key=key,
                                did_you_mean=did_you_mean(key, fields[sf.name]),
                            ),
                            at_key=True,
                        )
                    )
    return errors


def bundle_errors(
    source: BundleSource,
    installed: Mapping[str, dict] | None = None,
    installed_bundles: Collection[str] = (),
) -> list[dict[str, Any]]:
    """Every check here, run on a bundle that read cleanly; located entries."""
    installed = installed or {}
    errors = check_manifest(source, installed_bundles, {"entity": list(installed)})
    errors += check_entities(source, installed)
    errors += check_permissions(source, installed)
    errors += check_seed(source, installed)
    errors += check_webform_files(source, installed)
    errors += check_action_files(source, installed)
    return errors


def check_bundle(
    path: str | Path,
    installed: Mapping[str, dict] | None = None,
    installed_bundles: Collection[str] = (),
) -> BundleSource:
    """Read the bundle at ``path`` and run every check here; what ``tessera check`` needs.

    Raises one :class:`BundleError` with all entries (the reader's first, as
    the semantic checks need well-formed files); returns the source when clean.
    """
    source = read_bundle(path)
    raise_if_any(source, bundle_errors(source, installed, installed_bundles))
    return source


def raise_if_any(source: BundleSource, errors: list[dict[str, Any]]) -> None:
    """One BundleError carrying every entry, with the bundle's texts for caret excerpts."""
    if errors:
        count = len(errors)
        raise BundleError(
            _t(
                "bundle {name!r}: {count} problem{s}",
                name=source.name,
                count=count,
                s="s" if count > 1 else "",
            ),
            errors,
            sources=source.sources,
        )


__all__ = [
    "FIELD_KEY",
    "bundle_errors",
    "check_bundle",
    "check_entities",
    "check_manifest",
    "check_permissions",
    "check_seed",
    "raise_if_any",
]

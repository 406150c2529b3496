"""Install or upgrade a bundle: read and check everything, merge with overlays, apply at once.

The order is fixed so that nothing half-happens:

1. read every file and check it against its meta-schema (``reader``);
2. check what spans files: references between entities, dependencies,
   menus, and whatever the other engines registered for their kinds;
3. work out each item's target definition: new, unchanged, upgraded, or,
   where the customer edited it in the browser, a three-way merge that keeps
   the customer's change and reports each conflict;
4. plan the table migrations and check the stored rows against them;
5. apply all of it in one transaction, or (``plan_only``) stop and report.

Any refusal before step 5 leaves the database untouched; a failure inside step
5 rolls the whole transaction back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import yaml
from sqlalchemy import select

from engine.errors import BundleError
from engine.forms.defaults import default_errors
from engine.i18n import t as _t
from engine.meta.merge import three_way
from engine.meta.repository import content_hash
from engine.store.lookups import lookup_errors
from engine.store.system import bundles
from engine.store.upsert import upsert

if TYPE_CHECKING:
    from engine.meta.reader import BundleSource
    from engine.ports import PlatformPort

# Metadata kinds of the repository by the reader's file kinds; seed files are data, not metadata.
REPO_KIND = {
    "entity": "entity",
    "rules": "rules",
    "flow": "flow",
    "report": "report",
    "dashboard": "dashboard",
    "permissions": "permissions",
    "webform": "webform",
}

Checker = Callable[["BundleSource", dict[str, dict[str, Any]]], list[dict[str, Any]]]
_CHECKERS: dict[str, Checker] = {}


def register_checker(kind: str, checker: Checker) -> None:
    """Let an engine check its kind of file across the bundle (rules against entities, ...).

    ``checker(source, entities)`` gets the bundle and every entity definition the
    platform will have after the install (name → definition) and returns
    located error entries.
    """
    _CHECKERS[kind] = checker


@dataclass
class InstallReport:
    """What an install did (or, with ``plan_only``, would do)."""

    bundle: str
    version: str
    previous_version: str | None
    applied: bool
    items: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        """Plain text for the command line."""
        verb = "installed" if self.applied else "would install"
        was = f" (was {self.previous_version})" if self.previous_version else ""
        lines = [f"{verb} {self.bundle} {self.version}{was}"]
        for item in self.items:
            if item["action"] != "unchanged":
                lines.append(f"  {item['action']:<9} {item['kind']} {item['name']}")
        unchanged = sum(1 for i in self.items if i["action"] == "unchanged")
        if unchanged:
            lines.append(f"  unchanged {unchanged} item(s)")
        if self.steps:
            lines.append("migration plan:")
            lines += [f"  {_describe(s)}" for s in self.steps]
        if self.conflicts:
            lines.append("conflicts (your edits were kept):")
            for c in self.conflicts:
                lines.append(
                    f"  {c['kind']} {c['name']} at {c['path']}: yours {_short(c['ours'])}, "
                    f"the bundle's {_short(c['theirs'])}"
                )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bundle": self.bundle,
            "version": self.version,
            "previous_version": self.previous_version,
            "applied": self.applied,
            "items": self.items,
            "steps": self.steps,
            "conflicts": self.conflicts,
        }


def _describe(step: dict[str, Any]) -> str:
    where = f"{step['entity']}.{step['field']}" if step.get("field") else step["entity"]
    return f"{step['action']:<12} {where}" + (f": {step['detail']}" if step.get("detail") else "")


def _short(value: Any) -> str:
    text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= 60 else text[:57] + "..."


def definition_errors(
    definition: dict[str, Any], entities: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The engine's own checks of an entity definition: lookup paths and default expressions."""
    return lookup_errors(definition, entities) + default_errors(definition)


def item_definition(file: Any) -> Any:
    """The definition stored for one source file: its data, or the text of a rules file."""
    if file.kind == "rules":
        return {"name": file.name, "text": file.text}
    return file.data


def check_bundle(platform: PlatformPort, root: Path) -> BundleSource:
    """Read and check a bundle against this platform; raises BundleError with every problem."""
    from engine.meta.checks import bundle_errors, raise_if_any
    from engine.meta.reader import read_bundle

    source = read_bundle(root)
    with platform.db.transaction(write=False) as conn:
        installed = {n: d for n, (d, _v) in platform.repo.all_current(conn, "entity").items()}
        installed_bundles = [r.name for r in conn.execute(select(bundles.c.name))]
    errors = bundle_errors(source, installed, installed_bundles)
    entities = {**installed, **{f.name: f.data for f in source.items("entity")}}
    raise_if_any(source, errors + _engine_errors(source, entities))
    return source


def _engine_errors(source: BundleSource, entities: dict[str, dict[str, Any]]) -> list[dict]:
    """The engine's own entity checks and the registered kind checkers, located."""
    errors = []
    for f in source.items("entity"):
        for entry in definition_errors(f.data, entities):
            line, column = f.marks.locate(tuple(entry["field"].split(".")))
            errors.append({**entry, "file": f.relpath, "line": line, "column": column})
    for kind in sorted(_CHECKERS):
        errors += _CHECKERS[kind](source, entities)
    return errors


def check_definition(
    platform: PlatformPort, kind: str, definition: dict[str, Any], name: str | None = None
) -> list[dict]:
    """Check one definition saved through the metadata API, exactly as a bundle file is checked.

    The definition is written out as the file export would produce (YAML, or
    the text of a rules file) and read back as a one-file bundle, so the
    entries carry the field path and a line in that rendering.
    """
    from engine.meta.checks import check_entities
    from engine.meta.kinds import kinds
    from engine.meta.located import schema_errors
    from engine.meta.reader import BundleSource, SourceFile, metaschema
    from engine.meta.yamlpos import load_yaml

    with platform.db.transaction(write=False) as conn:
        installed = {n: d for n, (d, _v) in platform.repo.all_current(conn, "entity").items()}
    name = name or definition["name"]
    relpath = f"{kind}:{name}"
    if kind == "rules":
        text, data, marks = definition.get("text", ""), definition.get("text", ""), None
    else:
        text = dump_yaml(definition)
        data, marks = load_yaml(text, relpath)
    file_kind = kinds().get(kind)
    errors: list[dict[str, Any]] = []
    if file_kind is not None and file_kind.metaschema:
        errors += schema_errors(data, marks, metaschema(file_kind.metaschema), relpath)
    if errors:
        return errors
    files = [SourceFile(kind, relpath, name, text, data, marks)]
    if kind == "dashboard":
        # a dashboard names reports saved before it: they join the one-file bundle so the
        # dashboard's checker sees them (only the dashboard's own problems are kept)
        with platform.db.transaction(write=False) as conn:
            reports = platform.repo.all_current(conn, "report")
        for report, (report_definition, _v) in sorted(reports.items()):
            report_text = dump_yaml(report_definition)
            report_data, report_marks = load_yaml(report_text, f"report:{report}")
            files.append(
                SourceFile(
                    "report", f"report:{report}", report, report_text, report_data, report_marks
                )
            )
    source = BundleSource(root=Path("."), manifest={}, manifest_marks=marks, files=files)
    entities = dict(installed)
    if kind == "entity":
        from engine.record_actions.definition import check_action_files

        errors += check_entities(source, installed)
        errors += check_action_files(source, installed)
        entities[name] = definition
    if kind == "webform":
        from engine.webforms.definition import check_webform_files

        errors += check_webform_files(source, installed)
    found = errors + _engine_errors(source, entities)
    return [e for e in found if e.get("file") in (None, relpath)]


def install_bundle(
    platform: PlatformPort, root: Path, *, plan_only: bool = False, user: str | None = None
) -> InstallReport:
    """Install or upgrade the bundle at ``root``; see the module docstring for the order."""
    source = check_bundle(platform, root)
    manifest = source.manifest
    name, version = manifest["name"], str(manifest["version"])
    try:
        with platform.db.transaction(write=not plan_only) as conn:
            previous = conn.execute(
                select(bundles.c.version).where(bundles.c.name == name)
            ).scalar()
            report = InstallReport(name, version, previous, applied=False)
            targets = _targets(platform, conn, source, report)
            _recheck_merged(platform, targets, source)
            entity_defs = [
                target["target"]
                for target in targets
                if target["kind"] == "entity" and target["action"] in ("added", "updated", "merged")
            ]
            from engine.meta.apply import plan_entities, run_plans

            live = platform.entities.all()
            plans, row_errors = plan_entities(conn, entity_defs, live)
            report.steps = [s for p in plans for s in p.as_dicts()]
            if row_errors:
                raise BundleError(
                    _t(
                        "{name}: {n_row_errors} change(s) do not fit the stored records",
                        name=name,
                        n_row_errors=len(row_errors),
                    ),
                    [_located(e, source) for e in row_errors],
                    sources=source.sources,
                )
            if plan_only:
                return report
            run_plans(platform, conn, plans, live)
            stored = {p.entity: p.new.definition for p in plans}
            for target in targets:
                if target["kind"] == "entity" and target["name"] in stored:
                    target["target"] = stored[target["name"]]
            for target in targets:
                _store(platform, conn, target, name, version, user)
            _record_bundle(conn, platform, manifest, user)
            # The seed records join this transaction: the services see the new tables
            # through it, and a bad seed row undoes the whole install.
            platform.metadata_changed()
            _load_seed(platform, source, report, user)
            report.applied = True
    finally:
        platform.metadata_changed()
    return report


def _targets(
    platform: PlatformPort, conn: Any, source: BundleSource, report: InstallReport
) -> list[dict[str, Any]]:
    """Each item's target definition and what happens to it."""
    items = [("app", source.manifest["name"], source.manifest, "bundle.yaml")]
    for f in source.files:
        if f.kind in REPO_KIND:
            items.append((REPO_KIND[f.kind], f.name, item_definition(f), f.relpath))
    out = []
    for kind, item, theirs, relpath in items:
        head = platform.repo.head(conn, kind, item)
        entry = {"kind": kind, "name": item, "theirs": theirs, "file": relpath}
        if head is None or head["deleted"]:
            entry.update(action="added", target=theirs)
        else:
            ours = platform.repo.definition(conn, kind, item, head["current_version"])
            base = (
                platform.repo.definition(conn, kind, item, head["base_version"])
                if head["base_version"] is not None
                else None
            )
            if content_hash(ours) == content_hash(theirs):
                entry.update(action="unchanged", target=ours)
            elif head["overlay"]:
                merged, conflicts = three_way(base, ours, theirs)
                for c in conflicts:
                    report.conflicts.append({"kind": kind, "name": item, **c})
                unchanged = content_hash(merged) == content_hash(ours)
                entry.update(action="kept" if unchanged else "merged", target=merged)
            else:
                entry.update(action="updated", target=theirs)
        report.items.append({"kind": kind, "name": item, "action": entry["action"]})
        out.append(entry)
    return out


def _recheck_merged(platform: PlatformPort, targets: list[dict[str, Any]], source: Any) -> None:
    """A merge can combine two valid definitions into an invalid one: check the result."""
    errors = []
    for target in targets:
        if target["action"] == "merged":
            for e in check_definition(platform, target["kind"], target["target"]):
                e["file"] = target["file"]
                e["message"] = _t("after merging your edits: {message}", message=e["message"])
                errors.append(e)
    if errors:
        raise BundleError(_t("the upgrade conflicts with your edits"), errors)


def _located(entry: dict[str, Any], source: Any) -> dict[str, Any]:
    """Point a row-check error at the entity's file, on the field's line when it can."""
    entity = entry.get("entity")
    for f in source.items("entity"):
        if f.name == entity:
            path: tuple[Any, ...] = ("schema", "properties")
            if entry.get("field"):
                path = (*path, str(entry["field"]).split(".")[0])
            line, column = f.marks.locate(path)
            return {**entry, "file": f.relpath, "line": line, "column": column}
    return entry


def _store(
    platform: PlatformPort,
    conn: Any,
    target: dict[str, Any],
    bundle: str,
    version: str,
    user: str | None,
) -> None:
    kind, name = target["kind"], target["name"]
    repo = platform.repo
    if target["action"] in ("added", "updated"):
        repo.add_version(
            conn, kind, name, target["target"], origin="bundle", user=user,
            bundle=bundle, bundle_version=version, base=True,
        )  # fmt: skip
    elif target["action"] in ("merged", "kept"):
        # The new shipped definition becomes the base of later merges; the merge is live.
        repo.add_version(
            conn, kind, name, target["theirs"], origin="bundle", user=user, bundle=bundle,
            bundle_version=version, base=True, make_current=False,
        )  # fmt: skip
        repo.add_version(
            conn, kind, name, target["target"], origin="merge", user=user, bundle=bundle,
            bundle_version=version,
        )  # fmt: skip


def _record_bundle(
    conn: Any, platform: PlatformPort, manifest: dict[str, Any], user: str | None
) -> None:
    values = {
        "name": manifest["name"],
        "version": str(manifest["version"]),
        "manifest": orjson.dumps(manifest).decode(),
        "installed_on": platform.clock.now(),
        "installed_by": user,
    }
    conn.execute(
        upsert(conn, bundles, values, "name", {k: v for k, v in values.items() if k != "name"})
    )


def _load_seed(
    platform: PlatformPort, source: Any, report: InstallReport, user: str | None
) -> None:
    """Seed records go in only when their entity is still empty (a first install)."""
    for f in source.items("seed"):
        if platform.records(f.name).count() > 0:
            continue
        rows = f.data if isinstance(f.data, list) else (f.data or {}).get("records", [])
        platform.records(f.name, user=user, check=False).create_many(list(rows))
        report.items.append({"kind": "seed", "name": f.name, "action": f"{len(rows)} records"})


def dump_yaml(data: Any) -> str:
    """YAML as export writes it: key order kept, unicode as is, stable across runs."""
    return yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100
    )


__all__ = [
    "InstallReport",
    "check_bundle",
    "check_definition",
    "dump_yaml",
    "install_bundle",
    "register_checker",
]

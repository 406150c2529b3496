"""Write the live metadata back to a bundle folder: the round trip of install.

The files come out in a fixed order and format (key order as authored,
unicode kept, one file per item), so exporting an unchanged platform twice
gives byte-identical folders and a diff shows only real edits.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.errors import TesseraError, error_entry
from engine.meta.install import dump_yaml
from engine.store.system import bundles

if TYPE_CHECKING:
    from engine.ports import PlatformPort

# Where each metadata kind lives in a bundle folder, and how its file is named.
LAYOUT: dict[str, tuple[str, str]] = {
    "entity": ("entities", ".yaml"),
    "rules": ("rules", ".rules"),
    "flow": ("flows", ".yaml"),
    "report": ("reports", ".yaml"),
    "dashboard": ("dashboards", ".yaml"),
    "webform": ("webforms", ".yaml"),
}


def export_bundle(
    platform: PlatformPort, out_dir: Path, *, bundle: str | None = None
) -> list[Path]:
    """Write bundle ``bundle`` (the only one installed, when not named) into ``out_dir``.

    Items created through the metadata API belong to no bundle; they are
    exported with it, so a customer's new entities travel with the app. An app
    built in the browser (saved as kind ``app``, no bundle installed under its
    name) exports as its own bundle: its manifest and the unbundled items its
    menus name, with the rules files of those entities.
    """
    with platform.db.transaction(write=False) as conn:
        installed = sorted(r.name for r in conn.execute(select(bundles.c.name)))
        built = sorted(
            i["name"]
            for i in platform.repo.items(conn)
            if i["kind"] == "app" and not i["deleted"] and i["bundle"] is None
        )
        name = _pick(bundle, installed, built)
        manifest = platform.repo.current(conn, "app", name)
        items = [
            i
            for i in platform.repo.items(conn)
            if i["kind"] != "app" and not i["deleted"] and i["bundle"] in (name, None)
        ]
        if name not in installed:
            named = menu_items(manifest[0] if manifest else {})
            items = [
                i
                for i in items
                if i["bundle"] is None
                and (
                    (i["kind"], i["name"]) in named
                    or (i["kind"] == "rules" and ("entity", i["name"]) in named)
                )
            ]
        definitions = {
            (i["kind"], i["name"]): platform.repo.definition(
                conn, i["kind"], i["name"], i["current_version"]
            )
            for i in items
        }
    files: dict[Path, str] = {
        Path("bundle.yaml"): dump_yaml(
            manifest[0] if manifest else {"name": name, "version": "0.1.0"}
        )
    }
    for (kind, item), definition in sorted(definitions.items()):
        if kind == "permissions":
            files[Path("security") / "permissions.yaml"] = dump_yaml(definition)
        elif kind == "rules":
            files[Path("rules") / f"{item}.rules"] = definition["text"]
        elif kind in LAYOUT:
            folder, suffix = LAYOUT[kind]
            files[Path(folder) / f"{item}{suffix}"] = dump_yaml(definition)
    _clear_managed(out_dir)
    written = []
    for rel, text in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


def menu_items(manifest: dict[str, Any]) -> set[tuple[str, str]]:
    """``(kind, name)`` of every entity, report and dashboard a manifest's menus name."""
    found: set[tuple[str, str]] = set()
    stack = list(manifest.get("menus") or [])
    while stack:
        item = stack.pop()
        for kind in ("entity", "report", "dashboard"):
            if item.get(kind):
                found.add((kind, item[kind]))
        stack.extend(item.get("items") or [])
    return found


def _pick(bundle: str | None, installed: list[str], built: Sequence[str] = ()) -> str:
    if bundle is not None:
        if bundle not in installed and bundle not in built:
            raise TesseraError(
                f"no bundle named {bundle!r} is installed",
                [error_entry(f"installed: {', '.join(installed) or 'none'}", field="bundle")],
            )
        return bundle
    if len(installed) == 1:
        return installed[0]
    if not installed:
        return "custom"
    raise TesseraError(
        "several bundles are installed; name the one to export",
        [error_entry(f"installed: {', '.join(installed)}", field="bundle")],
    )


def _clear_managed(out_dir: Path) -> None:
    """Remove files a previous export wrote, so deleted items do not linger."""
    if not out_dir.exists():
        return
    if any(out_dir.iterdir()) and not (out_dir / "bundle.yaml").exists():
        raise TesseraError(
            f"{out_dir} is not empty and is not a bundle folder",
            [error_entry("export into an empty folder or over an earlier export", field="out_dir")],
        )
    targets: list[Any] = [out_dir / "bundle.yaml", out_dir / "security" / "permissions.yaml"]
    for folder, suffix in LAYOUT.values():
        targets += sorted((out_dir / folder).glob(f"*{suffix}"))
    for path in targets:
        if path.is_file():
            path.unlink()

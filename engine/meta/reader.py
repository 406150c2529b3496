"""Read a bundle folder into memory and check every file against its meta-schema.

Nothing is installed here: the reader only turns files into data with marks,
so that the checks and the installer can point at a line and column. It
collects every problem of every file before raising one :class:`BundleError`,
because an admin fixing a bundle wants the whole list, not one error per run.
"""

from __future__ import annotations

import copy
import csv
import difflib
import io
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from engine.errors import BundleError, error_entry
from engine.meta.kinds import FileKind, kind_for, kinds
from engine.meta.located import schema_errors
from engine.meta.yamlpos import Marks, load_yaml

MANIFEST = "bundle.yaml"
METASCHEMA_DIR = Path(__file__).with_name("metaschemas")
#: Top-level files a bundle may carry for people, not for the engine.
_DOC_PREFIXES = ("readme", "license", "licence", "changelog", "notice", "authors")


@dataclass
class SourceFile:
    """One file of a bundle as read: its kind, place, item name, text, data and marks.

    ``data`` is the parsed YAML (or CSV rows as dicts, or the text itself for
    text kinds such as rules); ``marks`` locates values in it (``None`` for text).
    """

    kind: str
    relpath: str
    name: str
    text: str = field(repr=False)
    data: Any = field(repr=False)
    marks: Marks | None = field(repr=False)


@dataclass
class BundleSource:
    """A whole bundle as read from its folder, before anything is installed."""

    root: Path
    manifest: dict[str, Any] = field(repr=False)
    manifest_marks: Marks = field(repr=False)
    files: list[SourceFile] = field(default_factory=list)
    manifest_text: str = field(default="", repr=False)

    @property
    def name(self) -> str:
        """The bundle's name from its manifest (the folder name when it has none)."""
        name = self.manifest.get("name")
        return name if isinstance(name, str) else self.root.name

    def items(self, kind: str) -> list[SourceFile]:
        """The files of one kind, in path order."""
        return [f for f in self.files if f.kind == kind]

    @property
    def sources(self) -> dict[str, str]:
        """Relative path → text, for the caret excerpts of error messages."""
        out = {MANIFEST: self.manifest_text} if self.manifest_text else {}
        out.update({f.relpath: f.text for f in self.files})
        return out


@cache
def _load_metaschema(file_name: str) -> dict[str, Any]:
    return json.loads((METASCHEMA_DIR / file_name).read_text(encoding="utf-8"))


def metaschema(file_name: str) -> dict[str, Any]:
    """The meta-schema called ``file_name``, as the reader applies it.

    The entity meta-schema closes property definitions against typos, so the
    ``x-`` options that registered field types declare in their
    ``config_schema`` are added to it here: a developer's new field type needs
    no edit of the meta-schema.
    """
    schema = _load_metaschema(file_name)
    if file_name != "entity.json":
        return schema
    from engine.forms.fieldtypes import field_types

    schema = copy.deepcopy(schema)
    allowed = schema["$defs"]["property"]["properties"]
    for ftype in field_types().values():
        for key, sub in (ftype.config_schema.get("properties") or {}).items():
            allowed.setdefault(key, sub)
    return schema


def _read_csv(text: str, relpath: str) -> tuple[list[dict[str, Any]], Marks, list[dict]]:
    """CSV rows as dicts; each row's marks point at the line it starts on."""
    marks = Marks(relpath)
    marks.values[()] = (1, 1)
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    reader = csv.DictReader(io.StringIO(text))
    try:
        header: dict[str, tuple[int, int]] = {}
        first_line, offset = text.split("\n", 1)[0], 0
        for name in reader.fieldnames or []:
            found = first_line.find(name, offset)
            header[name] = (1, found + 1 if found >= 0 else 1)
            offset = max(offset, found + len(name))
        last = 1
        for index, row in enumerate(reader):
            start = last + 1
            last = reader.line_num
            marks.values[(index,)] = (start, 1)
            for name, where in header.items():
                marks.keys[(index, name)] = where
            if None in row:
                errors.append(
                    error_entry(
                        "this row has more values than the header has columns",
                        file=relpath,
                        line=start,
                        column=1,
                    )
                )
                row.pop(None)
            rows.append(row)
    except csv.Error as exc:
        errors.append(
            error_entry(f"invalid CSV: {exc}", file=relpath, line=reader.line_num, column=1)
        )
    return rows, marks, errors


def _unknown_place(relpath: str) -> dict[str, Any]:
    """An entry for a file no kind claims, with a hint at the folder it was meant for."""
    parts = PurePosixPath(relpath).parts
    registered = list(kinds().values())
    if len(parts) == 1:
        return error_entry(
            f"{relpath} is not a bundle file; definitions live in folders "
            "(entities/, rules/, flows/, reports/, dashboards/, security/, seed/, webforms/)",
            file=relpath,
        )
    folder = parts[0]
    owners = [k for k in registered if folder in k.folders]
    if owners:
        wanted = " or ".join(k.pattern.replace("|", " or ") for k in owners)
        return error_entry(f"{relpath} is not where Tessera reads; expected {wanted}", file=relpath)
    folders = sorted({f for k in registered for f in k.folders})
    close = difflib.get_close_matches(folder, folders, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}/'?" if close else f"; known folders: {', '.join(folders)}"
    return error_entry(f"unknown folder '{folder}/' for {relpath}{hint}", file=relpath)


def _is_ignored(relpath: str) -> bool:
    parts = PurePosixPath(relpath).parts
    if any(p.startswith(".") or p == "__pycache__" for p in parts):
        return True
    return len(parts) == 1 and (
        parts[0].lower().startswith(_DOC_PREFIXES) or parts[0].lower().endswith((".md", ".txt"))
    )


def _read_text(path: Path, relpath: str, errors: list[dict[str, Any]]) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        errors.append(error_entry(f"{relpath} is not UTF-8 text ({exc.reason})", file=relpath))
    except OSError as exc:
        errors.append(error_entry(f"cannot read {relpath}: {exc.strerror}", file=relpath))
    return None


def _parse(
    kind: FileKind, relpath: str, text: str, errors: list[dict[str, Any]]
) -> tuple[Any, Marks | None, bool]:
    """Parse one file by its kind; returns (data, marks, parsed_cleanly)."""
    parser = kind.parser_for(relpath)
    if parser == "yaml":
        try:
            data, marks = load_yaml(text, relpath)
        except BundleError as exc:
            errors.extend(exc.errors)
            return None, None, False
        return data, marks, True
    if parser == "csv":
        rows, marks, problems = _read_csv(text, relpath)
        errors.extend(problems)
        return rows, marks, not problems
    return text, None, True


def _item_name(kind: FileKind, relpath: str, data: Any) -> str:
    stem = PurePosixPath(relpath).stem
    if kind.item_name == "name" and isinstance(data, dict) and isinstance(data.get("name"), str):
        return data["name"]
    return stem


def _read_manifest(root: Path, errors: list[dict[str, Any]]) -> tuple[dict, Marks, str]:
    path = root / MANIFEST
    if not path.is_file():
        others = [p.name for p in root.glob("bundle.*")] + [p.name for p in root.glob("*.yaml")]
        hint = f" (found {', '.join(sorted(set(others)))})" if others else ""
        errors.append(
            error_entry(
                f"missing {MANIFEST}: a bundle folder starts with a manifest "
                f"naming the bundle and its version{hint}",
                file=MANIFEST,
            )
        )
        return {}, Marks(MANIFEST), ""
    text = _read_text(path, MANIFEST, errors)
    if text is None:
        return {}, Marks(MANIFEST), ""
    try:
        data, marks = load_yaml(text, MANIFEST)
    except BundleError as exc:
        errors.extend(exc.errors)
        return {}, Marks(MANIFEST), text
    errors.extend(schema_errors(data, marks, metaschema("bundle.json"), MANIFEST))
    return (data if isinstance(data, dict) else {}), marks, text


def read_bundle(path: str | Path) -> BundleSource:
    """Read every file of the bundle at ``path`` and check each against its meta-schema.

    Also refuses a missing manifest, a file in a place no kind claims, two
    items of one kind with the same name, and an entity whose ``name`` is not
    its file stem. Raises one :class:`BundleError` carrying every located
    entry (and the sources for excerpts); returns the :class:`BundleSource`
    when the bundle is clean.
    """
    root = Path(path)
    if not root.is_dir():
        raise BundleError(
            f"{root} is not a bundle folder",
            [error_entry(f"{root} is not a folder", file=str(root))],
        )
    errors: list[dict[str, Any]] = []
    manifest, manifest_marks, manifest_text = _read_manifest(root, errors)
    source = BundleSource(root, manifest, manifest_marks, manifest_text=manifest_text)
    seen: dict[tuple[str, str], str] = {}
    for file_path in sorted(p for p in root.rglob("*") if p.is_file()):
        relpath = file_path.relative_to(root).as_posix()
        if relpath == MANIFEST or _is_ignored(relpath):
            continue
        kind = kind_for(relpath)
        if kind is None:
            errors.append(_unknown_place(relpath))
            continue
        text = _read_text(file_path, relpath, errors)
        if text is None:
            continue
        data, marks, parsed = _parse(kind, relpath, text, errors)
        name = _item_name(kind, relpath, data)
        source.files.append(SourceFile(kind.name, relpath, name, text, data, marks))
        if not parsed or marks is None:
            continue
        if kind.metaschema:
            errors.extend(schema_errors(data, marks, metaschema(kind.metaschema), relpath))
        stem = PurePosixPath(relpath).stem
        if kind.stem_must_match and name != stem:
            errors.append(
                marks.entry(
                    ("name",),
                    f"{kind.name} name {name!r} differs from its file name; "
                    f"rename the file to {name}{PurePosixPath(relpath).suffix} "
                    f"or the {kind.name} to {stem!r}",
                )
            )
        first = seen.setdefault((kind.name, name), relpath)
        if first != relpath:
            where = ("name",) if kind.item_name == "name" else ()
            errors.append(marks.entry(where, f"{kind.name} {name!r} is also defined in {first}"))
    if errors:
        count = len(errors)
        raise BundleError(
            f"bundle {source.name!r}: {count} problem{'s' if count > 1 else ''}",
            errors,
            sources=source.sources,
        )
    return source


__all__ = ["MANIFEST", "BundleSource", "SourceFile", "metaschema", "read_bundle"]

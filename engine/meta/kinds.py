"""The registry of file kinds a bundle may hold: where each lives and how it is read.

The bundle reader knows no kind by heart; it asks this registry which kind a
path belongs to. The built-in kinds (entities, rules, flows, reports,
dashboards, permissions, seed data) are registered here through the same door
another engine uses to add its own, so a new kind never needs a reader change.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import PurePosixPath

from engine.errors import PluginError

PARSERS = ("yaml", "text", "csv", "auto")
ITEM_NAMES = ("name", "stem")


@dataclass(frozen=True)
class FileKind:
    """One kind of bundle file.

    ``pattern`` is a glob relative to the bundle root (``entities/*.yaml``);
    several alternatives are separated by ``|`` (``seed/*.yaml|seed/*.csv``).
    ``*`` never crosses a ``/``. ``parser`` is ``yaml``, ``text``, ``csv`` or
    ``auto`` (by the file's suffix). ``metaschema`` is a file name under
    ``engine/meta/metaschemas/`` or ``None``. ``item_name`` says where the
    item's name comes from: the ``name`` key of the data or the file ``stem``.
    ``stem_must_match`` refuses a ``name`` that differs from the file stem, so
    a reader of the folder can find an item by its name.
    """

    name: str
    pattern: str
    parser: str = "yaml"
    metaschema: str | None = None
    item_name: str = "name"
    stem_must_match: bool = False

    @property
    def patterns(self) -> tuple[str, ...]:
        """The pattern's alternatives."""
        return tuple(p.strip() for p in self.pattern.split("|") if p.strip())

    @property
    def folders(self) -> tuple[str, ...]:
        """The first folder of each alternative (``entities``), for did-you-mean hints."""
        return tuple(p.split("/", 1)[0] for p in self.patterns if "/" in p)

    def matches(self, relpath: str) -> bool:
        """Whether ``relpath`` (POSIX, relative to the bundle root) is a file of this kind."""
        parts = PurePosixPath(relpath).parts
        for pattern in self.patterns:
            want = PurePosixPath(pattern).parts
            if len(want) == len(parts) and all(
                fnmatch.fnmatchcase(p, w) for p, w in zip(parts, want)
            ):
                return True
        return False

    def parser_for(self, relpath: str) -> str:
        """The parser that reads ``relpath``: ``auto`` picks YAML or CSV by suffix."""
        if self.parser != "auto":
            return self.parser
        suffix = PurePosixPath(relpath).suffix.lower()
        return {".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}.get(suffix, "text")


_kinds: dict[str, FileKind] = {}


def register_kind(kind: FileKind) -> FileKind:
    """Add a file kind; the reader will read, check and name its files.

    Raises :class:`PluginError` naming the kind when the name is taken or a
    field does not fit the contract, so two engines never silently share files.
    """
    problems = []
    if not isinstance(kind, FileKind):
        raise PluginError(f"file kind {kind!r} is not a FileKind")
    if kind.name in _kinds:
        problems.append("is already registered")
    if not kind.name or not kind.name.replace("_", "").isalnum():
        problems.append("needs a name made of letters, digits and underscores")
    if not kind.patterns:
        problems.append("needs a pattern such as 'entities/*.yaml'")
    if kind.parser not in PARSERS:
        problems.append(f"has parser {kind.parser!r}; use one of {', '.join(PARSERS)}")
    if kind.item_name not in ITEM_NAMES:
        problems.append(f"has item_name {kind.item_name!r}; use 'name' or 'stem'")
    if problems:
        raise PluginError(
            f"file kind {kind.name!r} " + "; ".join(problems),
            [{"field": kind.name, "message": p} for p in problems],
        )
    _kinds[kind.name] = kind
    return kind


def kinds() -> dict[str, FileKind]:
    """Every registered kind by name, built-ins first, in registration order."""
    return dict(_kinds)


def kind_for(relpath: str) -> FileKind | None:
    """The kind whose pattern matches ``relpath``, or ``None`` for a file in an unknown place."""
    for kind in _kinds.values():
        if kind.matches(relpath):
            return kind
    return None


BUILTIN_KINDS = (
    FileKind("entity", "entities/*.yaml", "yaml", "entity.json", "name", stem_must_match=True),
    FileKind("rules", "rules/*.rules", "text", None, "stem"),
    FileKind("flow", "flows/*.yaml", "yaml", "flow.json", "name"),
    FileKind("report", "reports/*.yaml", "yaml", "report.json", "name"),
    FileKind("dashboard", "dashboards/*.yaml", "yaml", "dashboard.json", "name"),
    FileKind("permissions", "security/permissions.yaml", "yaml", "permissions.json", "stem"),
    FileKind("seed", "seed/*.yaml|seed/*.csv", "auto", None, "stem"),
    # Public web forms published at /f/<name> (engine/webforms).
    FileKind("webform", "webforms/*.yaml", "yaml", "webform.json", "name", stem_must_match=True),
    # Demo-data recipes read by `tessera demo` (engine/demo.py); never installed.
    FileKind("demo", "demo/*.yaml", "yaml", None, "stem"),
)

for _kind in BUILTIN_KINDS:
    register_kind(_kind)


__all__ = ["BUILTIN_KINDS", "FileKind", "kind_for", "kinds", "register_kind"]

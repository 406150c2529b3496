"""Read YAML so that every value remembers where it was written.

Bundle files are written by people, so each error must point at a line and a
column. PyYAML's composer keeps a start mark on every node; this module builds
the plain Python data from those nodes itself and records, for every path in
the data, where its value (and, inside a mapping, its key) starts.

The dialect is deliberately narrower than YAML 1.1, closer to YAML 1.2's core
schema, because the 1.1 surprises bite metadata files:

- only ``true``/``false`` are booleans: ``on``, ``off``, ``yes``, ``no`` stay
  strings (a flow trigger is written ``on: updated``);
- dates and timestamps stay strings (records take ISO strings; the field type
  decides what they mean);
- ``12:30`` is a string, not the base-60 integer 750, and ``017`` is a string,
  not octal 15;
- a key written twice in one mapping is an error, never "the last one wins";
- only the core tags (string, integer, float, boolean, null, list, mapping)
  are accepted, so a file cannot smuggle Python objects or dates in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from engine.errors import BundleError, error_entry

Path = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_CORE_SCALARS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class _Resolver(BaseResolver):
    """Implicit types of plain scalars: YAML 1.2 core, not YAML 1.1."""


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9]+[eE][-+]?[0-9]+"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_Resolver.add_implicit_resolver(_MERGE, re.compile(r"^(?:<<)$"), ["<"])


class _Loader(Reader, Scanner, Parser, Composer, SafeConstructor, _Resolver):
    """SafeLoader's stages with the narrower resolver above."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        _Resolver.__init__(self)


def _pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def dotted(path: Path) -> str:
    """A path as people write it: ``schema.properties.company``, ``layout[0].fields[2]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class Marks:
    """Where each value of one YAML document was written (1-based line and column).

    ``locate`` answers for any path: when the path does not exist (a missing
    key), it falls back to the nearest ancestor that does, so an error about
    something absent still points inside the right block.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.values: dict[Path, tuple[int, int]] = {}
        self.keys: dict[Path, tuple[int, int]] = {}

    def locate(self, path: Path) -> tuple[int, int]:
        """Line and column of the value at ``path`` or of its nearest existing ancestor."""
        path = tuple(path)
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), (1, 1))

    def locate_key(self, path: Path) -> tuple[int, int]:
        """Line and column of the mapping key at ``path`` (the value's, for list items)."""
        path = tuple(path)
        if path in self.keys:
            return self.keys[path]
        return self.locate(path)

    def entry(self, path: Path, message: str, *, at_key: bool = False, **extra: Any) -> dict:
        """An error entry for this file, located at ``path``'s value (or key)."""
        line, column = self.locate_key(path) if at_key else self.locate(path)
        return error_entry(
            message, file=self.file, line=line, column=column, field=dotted(path) or None, **extra
        )


class _Builder:
    """Turns composed nodes into plain data, recording marks and duplicate keys."""

    def __init__(self, loader: _Loader, marks: Marks) -> None:
        self.loader = loader
        self.marks = marks
        self.errors: list[dict[str, Any]] = []
        self.active: set[int] = set()

    def build(self, node: Node, path: Path) -> Any:
        self.marks.values.setdefault(path, _pos(node))
        if id(node) in self.active:  # an alias that contains itself
            self._fail(node, path, "a recursive alias cannot be read as data")
            return None
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ:
                    self._fail(node, path, f"the tag {node.tag!r} is not allowed here")
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                if node.tag != _MAP:
                    self._fail(node, path, f"the tag {node.tag!r} is not allowed here")
                return self._mapping(node, path)
        finally:
            self.active.discard(id(node))
        self._fail(node, path, "this kind of YAML node cannot be read as data")
        return None

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        if node.tag not in _CORE_SCALARS:
            self._fail(
                node,
                path,
                f"the tag {node.tag!r} is not allowed; write a plain value "
                "(dates are written as quoted or plain ISO strings)",
            )
            return node.value
        return self.loader.construct_object(node, deep=True)

    def _pairs(self, node: MappingNode) -> Iterator[tuple[Node, Node, bool]]:
        """Key/value nodes, merged (``<<``) ones first and flagged as merged."""
        own: list[tuple[Node, Node]] = []
        merged: list[tuple[Node, Node]] = []
        for key, value in node.value:
            if key.tag == _MERGE:
                sources = value.value if isinstance(value, SequenceNode) else [value]
                for src in sources:
                    if isinstance(src, MappingNode):
                        merged.extend(src.value)
                    else:
                        self._fail(src, (), "'<<' merges only mappings")
            else:
                own.append((key, value))
        for key, value in merged:
            yield key, value, True
        for key, value in own:
            yield key, value, False

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        from_merge: set[str] = set()
        for key_node, value_node, is_merged in self._pairs(node):
            if not isinstance(key_node, ScalarNode):
                self._fail(key_node, path, "a key must be a plain name, not a list or mapping")
                continue
            key = key_node.value
            if key in first_line and not (key in from_merge or is_merged):
                line, column = _pos(key_node)
                self.errors.append(
                    error_entry(
                        f"duplicate key {key!r} (first defined on line {first_line[key]})",
                        file=self.marks.file,
                        line=line,
                        column=column,
                        field=dotted((*path, key)),
                    )
                )
                continue
            if key in first_line and is_merged:
                continue
            if is_merged:
                from_merge.add(key)
            else:
                from_merge.discard(key)
            first_line[key] = _pos(key_node)[0]
            self.marks.keys[(*path, key)] = _pos(key_node)
            out[key] = self.build(value_node, (*path, key))
        return out

    def _fail(self, node: Node, path: Path, message: str) -> None:
        line, column = _pos(node)
        self.errors.append(
            error_entry(
                message, file=self.marks.file, line=line, column=column, field=dotted(path) or None
            )
        )


def _yaml_problem(exc: yaml.YAMLError, file: str) -> dict[str, Any]:
    """A readable, located entry for a YAML syntax problem."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        words = [w for w in (exc.context, exc.problem) if w]
        message = "invalid YAML: " + ", ".join(words) if words else "invalid YAML"
        if "\t" in (exc.problem or "") or "'\\t'" in (exc.problem or ""):
            message += " (indent with spaces, not tabs)"
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        return error_entry(message, file=file, line=line, column=column)
    if isinstance(exc, yaml.reader.ReaderError):
        return error_entry(
            f"invalid YAML: unacceptable character #x{exc.character:04x} "
            "(special characters are not allowed)",
            file=file,
        )
    return error_entry(f"invalid YAML: {exc}", file=file)


def load_yaml(text: str, file: str) -> tuple[Any, Marks]:
    """Parse one YAML document and return its data with the marks of every value.

    Raises :class:`BundleError` with located entries for a syntax error, a
    duplicate key, or a tag outside the core schema; all duplicate keys of the
    document are reported together. An empty document reads as ``None``.
    """
    marks = Marks(file)
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            return None, marks
        builder = _Builder(loader, marks)
        data = builder.build(node, ())
    except yaml.YAMLError as exc:
        entry = _yaml_problem(exc, file)
        if entry["line"] is None and isinstance(exc, yaml.reader.ReaderError):
            line = text.count("\n", 0, exc.position) + 1
            column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
            entry.update(line=line, column=column)
        raise BundleError(entry["message"], [entry], sources={file: text}) from None
    finally:
        if loader is not None:
            loader.dispose()
    if builder.errors:
        errors = sorted(builder.errors, key=lambda e: (e["line"] or 0, e["column"] or 0))
        raise BundleError(errors[0]["message"], errors, sources={file: text})
    return data, marks


__all__ = ["Marks", "Path", "dotted", "load_yaml"]

"""The error tree: every failure a user can meet, located and readable.

Each error carries ``.errors``, a list of entries ``{file, line, column, field,
message}`` (keys that do not apply are ``None``), so the CLI, the HTTP API and
the browser can all point at the place that is wrong. When the text that was
read is known, ``str()`` shows each entry with the offending line and a caret
under the column, the way compilers do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ENTRY_KEYS = ("file", "line", "column", "field", "message")


def error_entry(
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    column: int | None = None,
    field: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Build one located error entry; extra keys (``end``, ``severity``, ``ids``) are kept."""
    entry: dict[str, Any] = {
        "file": file,
        "line": line,
        "column": column,
        "field": field,
        "message": message,
    }
    entry.update(extra)
    return entry


def _normalise(entry: Mapping[str, Any] | str) -> dict[str, Any]:
    if isinstance(entry, str):
        return error_entry(entry)
    out = {key: entry.get(key) for key in ENTRY_KEYS}
    out.update({k: v for k, v in entry.items() if k not in ENTRY_KEYS})
    if out["message"] is None:
        out["message"] = "error"
    return out


def caret_excerpt(text: str, line: int, column: int | None, width: int = 1) -> str:
    """Return the 1-based ``line`` of ``text`` with a caret under ``column`` (1-based)."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    source_line = lines[line - 1].expandtabs(1)
    gutter = f"{line:>4} | "
    excerpt = gutter + source_line
    if column is not None and column >= 1:
        pad = " " * (len(gutter) - 2) + "| " + " " * (column - 1)
        excerpt += "\n" + pad + "^" * max(1, width)
    return excerpt


def format_entry(entry: Mapping[str, Any], sources: Mapping[str, str] | None = None) -> str:
    """Render one entry as ``file:line:column: field: message`` plus an excerpt."""
    where = []
    if entry.get("file"):
        where.append(str(entry["file"]))
    if entry.get("line") is not None:
        where.append(str(entry["line"]))
        if entry.get("column") is not None:
            where.append(str(entry["column"]))
    head = ":".join(where)
    parts = [head] if head else []
    if entry.get("field"):
        parts.append(str(entry["field"]))
    parts.append(str(entry.get("message")))
    text = ": ".join(parts)
    if sources and entry.get("line") is not None:
        source = sources.get(entry.get("file") or "")
        if source is not None:
            excerpt = caret_excerpt(source, int(entry["line"]), entry.get("column"))
            if excerpt:
                text += "\n" + excerpt
    return text


class TesseraError(Exception):
    """Root of every error the engine raises on purpose.

    ``errors`` is the list of located entries; ``sources`` maps a file name
    (or ``""`` for an anonymous text) to its text, for caret excerpts.
    """

    default_message = "error"

    def __init__(
        self,
        message: str | None = None,
        errors: Iterable[Mapping[str, Any] | str] | None = None,
        *,
        sources: Mapping[str, str] | None = None,
    ) -> None:
        self.errors: list[dict[str, Any]] = [_normalise(e) for e in (errors or [])]
        if not self.errors and message:
            self.errors = [error_entry(message)]
        self.message = message or (
            self.errors[0]["message"] if self.errors else self.default_message
        )
        self.sources = dict(sources or {})
        super().__init__(self.message)

    def __str__(self) -> str:
        if not self.errors:
            return self.message
        body = "\n".join(format_entry(e, self.sources) for e in self.errors)
        if len(self.errors) == 1 and self.errors[0]["message"] == self.message:
            return body
        return f"{self.message}\n{body}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the HTTP layer's problem+json body builds on it)."""
        return {"type": type(self).__name__, "message": self.message, "errors": self.errors}


class BundleError(TesseraError):
    """A bundle (or one of its files) is malformed or inconsistent; nothing was installed."""

    default_message = "the bundle is invalid"


class ValidationError(TesseraError):
    """A record does not fit its entity; ``errors`` name each field path."""

    default_message = "the record is invalid"


class RuleSyntaxError(TesseraError):
    """A rule or expression cannot be parsed."""


class RuleTypeError(TesseraError):
    """A rule parses but does not type-check against the entities."""


class PermissionDenied(TesseraError):
    """The acting user may not do this."""

    default_message = "permission denied"


class NotFound(TesseraError):
    """A record, entity or definition does not exist."""

    default_message = "not found"


class ConflictError(TesseraError):
    """Someone changed the thing first: a stale version or base version."""

    default_message = "conflict: the data changed since it was read"


class AlreadyRunning(ConflictError):
    """A flow already runs on the record a start names (one instance per flow and record)."""

    default_message = "the flow already runs on this record"


class MigrationError(TesseraError):
    """A schema change cannot be applied; entries name the offending records."""

    default_message = "the schema change cannot be applied"


class FlowError(TesseraError):
    """A flow definition or a flow step is invalid."""


class PluginError(TesseraError):
    """A plugin (node type, field type, function, action) does not fit its contract."""


__all__ = [
    "AlreadyRunning",
    "BundleError",
    "ConflictError",
    "FlowError",
    "MigrationError",
    "NotFound",
    "PermissionDenied",
    "PluginError",
    "RuleSyntaxError",
    "RuleTypeError",
    "TesseraError",
    "ValidationError",
    "caret_excerpt",
    "error_entry",
    "format_entry",
]

"""The report result cache: shaped results keyed by what decides them.

A key is a hash of the report's SQL (or, for report types that run several
statements, its definition and compiled filter), the parameters bound into
it, the viewer's permission scope, and the data version of every entity the
report reads (:mod:`engine.store.versions`). A write bumps its entity's
version in its own transaction, so the next run misses and recomputes, while
reports over other entities keep their entries. Entries are the shaped
results (``{columns, rows, totals, chart, ...}``), not the rows, so a hit
costs one small version lookup and a copy.

The store is in-process and bounded by the approximate size of its entries;
the least recently used go first. Results computed in the background are
kept in the database instead (:mod:`engine.reports.background`).
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from typing import Any

import orjson

#: Default bound of one platform's cache, in bytes of JSON (approximate).
DEFAULT_BYTES = 32 * 1024 * 1024
#: A single result larger than this is never cached (it would push out everything else).
LARGEST_ENTRY = 4 * 1024 * 1024


def _json(value: Any) -> bytes:
    return orjson.dumps(
        value,
        default=str,
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME,
    )


def cache_key(
    statement: str, params: Any, scope: Any, versions: dict[str, int], extra: Any = None
) -> str:
    """The key of one result: SQL text, bound parameters, viewer scope, data versions."""
    blob = _json([statement, params, scope, sorted(versions.items()), extra])
    return hashlib.sha256(blob).hexdigest()


class ResultCache:
    """A thread-safe LRU of shaped report results, bounded by total size in bytes."""

    def __init__(self, max_bytes: int = DEFAULT_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any | None:
        """A copy of the entry (callers may change it), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return copy.deepcopy(entry[0])

    def put(self, key: str, result: Any) -> None:
        try:
            size = len(_json(result))
        except TypeError:  # a value JSON cannot carry: do not cache rather than fail the run
            return
        if size > min(LARGEST_ENTRY, self.max_bytes):
            return
        value = copy.deepcopy(result)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


def compiled(stmt: Any, dialect: Any) -> tuple[str, Any]:
    """The SQL text and bound parameters of ``stmt`` on ``dialect`` (for a key)."""
    sql = stmt.compile(dialect=dialect)
    return str(sql), sorted((k, repr(v)) for k, v in sql.params.items())


def tables_entities(platform: Any, stmt: Any) -> set[str]:
    """The entities whose tables ``stmt`` reads (a child table counts as its parent)."""
    from sqlalchemy.sql.util import find_tables

    by_table: dict[str, str] = {}
    for name, live in platform.entities.all().items():
        by_table[live.table.name] = name
        for child in live.child_tables.values():
            by_table[child.name] = name
    found = set()
    for table in find_tables(stmt, include_joins=True, include_aliases=True):
        base = getattr(table, "element", table)
        name = getattr(base, "name", None)
        if name in by_table:
            found.add(by_table[name])
    return found


def spec_entities(platform: Any, source: str, spec: Any) -> set[str]:
    """What a report type other than the pivot may read: its source, the entities the
    source refers to, and every entity its definition names (orders, targets, ...)."""
    known = set(platform.entities.names())
    found = {source}
    model = platform.entities.get(source).model
    for f in model.fields.values():
        target = f.prop.get("x-ref") if hasattr(f, "prop") else None
        if target in known:
            found.add(target)

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if value in known:
                found.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple | set):
            for v in value:
                walk(v)

    walk(spec)
    return found


__all__ = ["ResultCache", "cache_key", "compiled", "spec_entities", "tables_entities"]

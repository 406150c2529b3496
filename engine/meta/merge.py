"""Three-way merge of definitions: keep the customer's edits when a bundle upgrades.

``base`` is what the bundle shipped last time, ``ours`` the live definition
(base plus browser edits), ``theirs`` what the new bundle version ships.
Mappings merge key by key; anything else (lists, scalars) is one value. Where
both sides changed the same place differently, ours wins and the place is
reported as a conflict, never silently overwritten.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


def three_way(base: Any, ours: Any, theirs: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Return (merged, conflicts); each conflict is ``{path, base, ours, theirs}``."""
    conflicts: list[dict[str, Any]] = []
    merged = _merge(base, ours, theirs, (), conflicts)
    return (None if merged is _MISSING else merged), conflicts


def _merge(base: Any, ours: Any, theirs: Any, path: tuple, conflicts: list) -> Any:
    if ours == theirs:
        return ours
    if ours == base:
        return theirs
    if theirs == base:
        return ours
    if all(isinstance(v, dict) for v in (base, ours, theirs)) or (
        base is _MISSING and isinstance(ours, dict) and isinstance(theirs, dict)
    ):
        base_d = base if isinstance(base, dict) else {}
        out: dict[str, Any] = {}
        keys = list(ours) + [k for k in theirs if k not in ours]
        for key in keys:
            value = _merge(
                base_d.get(key, _MISSING),
                ours.get(key, _MISSING),
                theirs.get(key, _MISSING),
                (*path, key),
                conflicts,
            )
            if value is not _MISSING:
                out[key] = value
        return out
    conflicts.append(
        {
            "path": ".".join(str(p) for p in path) or "(whole definition)",
            "base": None if base is _MISSING else base,
            "ours": None if ours is _MISSING else ours,
            "theirs": None if theirs is _MISSING else theirs,
        }
    )
    return ours

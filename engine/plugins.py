"""Loading plugins from entry-point groups, the same way for every registry.

Field types (``tessera.field_types``), rule actions (``tessera.actions``) and
flow node types (``tessera.node_types``) are all found through installed
packages' entry points. A plugin that fails to import raises PluginError
naming it, instead of silently vanishing from the editor's palette.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from engine.errors import PluginError


def load(ep: EntryPoint, what: str) -> Any:
    """The object an entry point names; PluginError (naming ``what`` and it) if it fails."""
    try:
        return ep.load()
    except Exception as exc:  # any import failure of a third-party package
        raise PluginError(
            f"{what} entry point {ep.name!r} failed to load: {exc}",
            [{"field": ep.value, "message": str(exc)}],
        ) from exc


def plugins(group: str, what: str) -> Iterator[tuple[EntryPoint, Any]]:
    """Each installed entry point of ``group`` with the object it names."""
    for ep in entry_points(group=group):
        yield ep, load(ep, what)


__all__ = ["load", "plugins"]

"""The fields every record has, which the engine maintains (no definition declares them).

Kept apart from ``engine.forms.entity`` because the record steps that the
entity model builds (``engine.forms.record_codec``, and the walks of
``engine.store.values`` it specialises) read these names too: from here
they do so without importing the model's module back.
"""

from __future__ import annotations

SYSTEM_FIELDS: tuple[str, ...] = (
    "id",
    "owner",
    "team",
    "created_by",
    "created_on",
    "modified_by",
    "modified_on",
    "version",
)
#: System fields a caller may set (assignment); the others the engine alone maintains.
ASSIGNABLE_SYSTEM_FIELDS = frozenset({"owner", "team"})
#: The columns of a child table's rows besides their fields.
CHILD_SYSTEM_FIELDS: tuple[str, ...] = ("id", "parent_id", "idx")

__all__ = ["ASSIGNABLE_SYSTEM_FIELDS", "CHILD_SYSTEM_FIELDS", "SYSTEM_FIELDS"]

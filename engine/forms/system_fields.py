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
#: How the pages name the system fields (no definition gives them labels), in both languages.
SYSTEM_FIELD_LABELS: dict[str, dict[str, str]] = {
    "id": {"en": "ID", "zh-CN": "编号"},
    "owner": {"en": "Owner", "zh-CN": "负责人"},
    "team": {"en": "Team", "zh-CN": "团队"},
    "created_by": {"en": "Created by", "zh-CN": "创建人"},
    "created_on": {"en": "Created on", "zh-CN": "创建时间"},
    "modified_by": {"en": "Modified by", "zh-CN": "修改人"},
    "modified_on": {"en": "Modified on", "zh-CN": "修改时间"},
    "version": {"en": "Version", "zh-CN": "版本"},
}
#: System fields a caller may set (assignment); the others the engine alone maintains.
ASSIGNABLE_SYSTEM_FIELDS = frozenset({"owner", "team"})
#: The columns of a child table's rows besides their fields.
CHILD_SYSTEM_FIELDS: tuple[str, ...] = ("id", "parent_id", "idx")

__all__ = [
    "ASSIGNABLE_SYSTEM_FIELDS",
    "CHILD_SYSTEM_FIELDS",
    "SYSTEM_FIELDS",
    "SYSTEM_FIELD_LABELS",
]

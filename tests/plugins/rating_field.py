"""A field type written the way a developer outside the project would: a 1-to-N star rating.

docs/developer/field-types.md walks through this file.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import SmallInteger
from sqlalchemy.types import TypeEngine

from engine.forms.fieldtypes import FieldType


class Rating(FieldType):
    """Whole stars from 1 to ``x-stars`` (5 unless the field says otherwise)."""

    name = "rating"
    label = {"en": "Rating", "zh-CN": "评分"}
    value_kind = "integer"
    config_schema = {
        "type": "object",
        "properties": {"x-stars": {"type": "integer", "minimum": 2, "maximum": 10}},
    }

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        return SmallInteger()

    def check_definition(self, prop: dict[str, Any]) -> list[str]:
        stars = prop.get("x-stars", 5)
        if not isinstance(stars, int) or not 2 <= stars <= 10:
            return [f"x-stars must be a whole number from 2 to 10, not {stars!r}"]
        if prop.get("type", "integer") != "integer":
            return ["a rating is a whole number: leave out type or use type: integer"]
        return []

    def implied(self, prop: dict[str, Any]) -> dict[str, Any]:
        """Validation gets the upper bound from the field's own x-stars."""
        return {"type": "integer", "minimum": 1, "maximum": prop.get("x-stars", 5)}

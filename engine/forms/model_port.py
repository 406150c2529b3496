"""What the record steps use of an entity's model, declared below the model.

``engine.forms.entity.EntityModel`` builds its record codec
(``engine.forms.record_codec``), and the codec, the defaults
(``engine.forms.defaults``) and the value conversions
(``engine.store.values``) read the model back. Annotating them with
``EntityModel`` made each import the module that imports the codec; they
annotate instead with :class:`ModelPort` and :class:`FieldPort`, which name
only what they read (read-only, so a model's own ``Field`` and child models
fit). ``EntityModel`` and ``Field`` satisfy them by their shape
(``tests/test_ports.py`` holds them against each other).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.forms.fieldtypes import FieldType


class FieldPort(Protocol):
    """One field of a model (``engine.forms.entity.Field``)."""

    @property
    def key(self) -> str: ...

    @property
    def prop(self) -> dict[str, Any]: ...

    @property
    def type(self) -> FieldType: ...

    @property
    def column(self) -> str | None: ...

    @property
    def removed(self) -> bool: ...

    @property
    def child(self) -> ModelPort | None: ...

    @property
    def computed(self) -> str | None: ...

    @property
    def stored(self) -> bool: ...

    @property
    def read_only(self) -> bool: ...

    def validation_property(self) -> dict[str, Any]: ...


class ModelPort(Protocol):
    """An entity's model, or a child table's (``engine.forms.entity.EntityModel``)."""

    @property
    def name(self) -> str: ...

    @property
    def fields(self) -> Mapping[str, FieldPort]: ...

    @property
    def parent(self) -> ModelPort | None: ...

    @property
    def codec(self) -> Any: ...

    @property
    def plain_keys(self) -> frozenset[str]: ...

    @property
    def converters(self) -> Mapping[str, tuple[FieldPort, Any, Any]]: ...

    @property
    def public_keys(self) -> list[tuple[str, bool]]: ...

    def active_fields(self) -> Sequence[FieldPort]: ...

    def stored_fields(self) -> Sequence[FieldPort]: ...

    def validation_schema(self) -> dict[str, Any]: ...


__all__ = ["FieldPort", "ModelPort"]

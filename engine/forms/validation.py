"""Record validation: one compiled validator per entity version, errors a business user can read."""

from __future__ import annotations

import re
from typing import Any

from engine.forms.entity import EntityModel, label_text
from engine.forms.messages import message
from engine.forms.validator import CompiledValidator, compile_validator
from engine.i18n import current_language

_SEGMENT = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class RecordValidator:
    """Validates a record's JSON form against its entity; returns located, translated entries.

    The schema is compiled once (:mod:`engine.forms.validator`), so saving a
    record pays for the checks and not for interpreting the schema; error
    entries are built only when the quick yes/no check has failed.
    """

    def __init__(self, model: EntityModel) -> None:
        self.model = model
        self.schema = model.validation_schema()
        self._compiled: CompiledValidator = compile_validator(self.schema)

    def is_valid(self, doc: Any) -> bool:
        """Whether ``doc`` is a valid record, without building any error entry."""
        return self._compiled.is_valid(doc)

    def errors(self, doc: Any, prefix: str = "", lang: str | None = None) -> list[dict[str, Any]]:
        """``[{field, message, code}]`` sorted by field; empty when ``doc`` is valid.

        ``field`` is a path such as ``company`` or ``items[0].qty`` (after
        ``prefix``); a missing or unknown field is reported at its own path.
        Messages are worded in ``lang``, by default the reader's language
        (:func:`engine.i18n.current_language`, which the web sets per request),
        so no caller has to thread it through.
        """
        if self._compiled.is_valid(doc):
            return []
        lang = lang or current_language()
        out = []
        for error in self._compiled.errors(doc):
            code, path, params = error["code"], error["field"], error["params"]
            if code == "additionalProperties":
                entity = self._model_at(path).name
                for name in params.get("unexpected", []):
                    text = message(code, {"unexpected": [name]}, entity, lang)
                    out.append(
                        {"field": prefix + _join(path, str(name)), "message": text, "code": code}
                    )
                continue
            if code == "required" and "property" in params:
                path = _join(path, params["property"])
            text = message(code, params, self.label(path, lang), lang)
            out.append({"field": prefix + path, "message": text, "code": code})
        out.sort(key=lambda e: e["field"])
        return out

    def label(self, path: str, lang: str = "en") -> str:
        """The label of the field at ``path``; a child row reads "Items row 2: Qty"."""
        model: EntityModel | None = self.model
        text = ""
        for index, key in _SEGMENT.findall(path):
            if index:
                row = int(index) + 1
                text = f"{text} 第 {row} 行" if lang.startswith("zh") else f"{text} row {row}"
                continue
            f = model.fields.get(key) if model is not None else None
            name = label_text(f.label, lang, key) if f is not None else key
            sep = "：" if lang.startswith("zh") else ": "
            text = f"{text}{sep}{name}" if text else name
            model = f.child if f is not None else None
        return text or label_text(self.model.label, lang, self.model.name)

    def _model_at(self, path: str) -> EntityModel:
        """The entity (or child table) whose record sits at ``path``."""
        model = self.model
        for index, key in _SEGMENT.findall(path):
            if index:
                continue
            f = model.fields.get(key)
            if f is None or f.child is None:
                return model
            model = f.child
        return model


__all__ = ["RecordValidator"]

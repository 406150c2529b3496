"""The rule sets that run on a save: the live versions of the stored ``.rules`` files.

Every rules file is a metadata item (kind ``rules``); each save through
``p.meta`` adds an immutable version, and the version number of the file is
the version of every rule set in it. This module loads the live versions
once per metadata change into the platform's rule service and sorts them per
entity in the order a save runs them (RULES_DSL.md section 2): computed
fields, scoring, grading, tables, routing, validation, then triggers.
"""

from __future__ import annotations

import graphlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import TesseraError
from engine.rules.service import EVALUATION_ORDER, CompiledExpression, LoadedRuleSet
from engine.store.lookups import is_path

if TYPE_CHECKING:
    from engine.ports import PlatformPort

log = logging.getLogger("tessera.rules")

#: Rule kinds that write a value into the record before it is stored.
STAGES = EVALUATION_ORDER[:4]


@dataclass
class EntityRules:
    """What runs on a save of one entity, in order."""

    computed: list[tuple[str, CompiledExpression]] = field(default_factory=list)
    stages: list[LoadedRuleSet] = field(default_factory=list)
    validations: list[LoadedRuleSet] = field(default_factory=list)
    triggers: list[LoadedRuleSet] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.computed or self.stages or self.validations or self.triggers)


class LiveRules:
    """The live rule sets of a platform, loaded from metadata; rebuilt after each change."""

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self.rules = platform.rules
        #: rule set name → the rules file (metadata item) that holds it.
        self.files: dict[str, str] = {}
        #: file name → the errors that kept it from loading (it does not run).
        self.broken: dict[str, list[dict[str, Any]]] = {}
        self._sets: list[LoadedRuleSet] = []
        self._entities: dict[str, EntityRules] = {}
        self._load()

    def _load(self) -> None:
        with self.platform.db.transaction(write=False) as conn:
            stored = self.platform.repo.all_current(conn, "rules")
        for name, (definition, version) in stored.items():
            try:
                names = self.rules.load_ruleset(
                    definition.get("text", ""), f"rules/{name}.rules", version=version
                )
            except TesseraError as exc:
                # Checked when saved; an entity change since may break it. It stops
                # running (logged and listed in ``broken``) instead of blocking every write.
                log.warning("rules file %s does not load and will not run: %s", name, exc)
                self.broken[name] = exc.errors
                continue
            loaded = self.rules.rulesets()
            for n in names:
                self.files[n] = name
                self._sets.append(loaded[n])

    def for_entity(self, entity: str) -> EntityRules:
        """The computed fields and rule sets of ``entity`` in evaluation order (cached)."""
        found = self._entities.get(entity)
        if found is None:
            found = self._entities[entity] = self._build(entity)
        return found

    def of_kind(self, kind: str) -> list[LoadedRuleSet]:
        """Every live rule set of one kind (``schedule``, ``trigger``, ...)."""
        return [s for s in self._sets if s.kind == kind]

    def ruleset(self, name: str) -> LoadedRuleSet | None:
        return next((s for s in self._sets if s.name == name), None)

    def _build(self, entity: str) -> EntityRules:
        out = EntityRules(computed=self._computed(entity))
        mine = [s for s in self._sets if s.entity == entity]
        for kind in STAGES:
            out.stages += [s for s in mine if s.kind == kind]
        out.validations = [s for s in mine if s.kind == "validation"]
        out.triggers = [s for s in mine if s.kind == "trigger"]
        return out

    def _computed(self, entity: str) -> list[tuple[str, CompiledExpression]]:
        """Computed fields (rule-language expressions, not lookup paths), dependencies first."""
        model = self.platform.entities.get(entity).model
        exprs: dict[str, CompiledExpression] = {}
        for f in model.active_fields():
            if f.computed and f.child is None and not is_path(f.computed):
                try:
                    exprs[f.key] = self.rules.compile(f.computed, entity)
                except TesseraError as exc:
                    log.warning("computed field %s.%s does not compile: %s", entity, f.key, exc)
        graph = {
            k: {r.split(".")[0] for r in e.reads()} & set(exprs) - {k} for k, e in exprs.items()
        }
        try:
            order = list(graphlib.TopologicalSorter(graph).static_order())
        except graphlib.CycleError:
            order = list(exprs)
        return [(k, exprs[k]) for k in order]


__all__ = ["STAGES", "EntityRules", "LiveRules"]

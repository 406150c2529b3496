"""Rule versions against stored records: stamps and replay (``p.rules.replay``).

Replay answers the admin's question before (or after) a rule change: "if
this version had scored my leads, what would be different?" It compiles the
chosen version of the rule set's file (an immutable metadata version) in a
scratch rule service, runs it over the stored records page by page and
reports each record whose outcome differs from what is stored. It writes
nothing: no records, no stamps, no round-robin turns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from engine.errors import NotFound, TesseraError, error_entry
from engine.rules import stamps
from engine.rules.service import LoadedRuleSet, RuleService

if TYPE_CHECKING:
    from engine.ports import PlatformPort
    from engine.rules.pipeline import RulePipeline

PAGE = 500


class RuleHistory:
    """Stamps and replays over one platform's records."""

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform

    def stamps(self, entity: str, record_id: int) -> dict[str, dict[str, Any]]:
        """Rule set → ``{version, rule}`` that last acted on the record."""
        with self.platform.db.transaction(write=False) as conn:
            found = stamps.read(conn, entity, [record_id])[record_id]
        return {name: {"version": s.version, "rule": s.rule} for name, s in found.items()}

    def explain(self, entity: str, record: dict[str, Any]) -> list[dict[str, Any]]:
        """Why a stored record has its score, grade and owner: each rule set that fills it.

        ``record`` is the record as read (its system fields included). Returns,
        per scoring/grading/table/routing rule set of the entity in save order,
        ``{ruleset, kind, version, target, value, stamped, fired}`` where
        ``fired`` lists the rules that matched (``{rule, label, line, value,
        reads}``) and ``stamped`` is ``{version, rule}`` of the save that last
        acted (for routing, the rule that routed it then). The rules run on
        the record as it is now, so a time-based rule (``days_since``) may
        read differently than on the day of the save; the stamp tells which.
        """
        live = cast("RulePipeline", self.platform.save_hook).live()
        stamped = self.stamps(entity, record["id"])
        out = []
        for s in live.for_entity(entity).stages:
            result = self.platform.rules._evaluate(
                s.compiled, record, True, None, None, None, s.version
            )
            fired = [e for e in result.pop("trace") if e["fired"]]
            out.append({**result, "stamped": stamped.get(s.name), "fired": fired})
        return out

    def replay(
        self,
        ruleset: str,
        *,
        version: int | None = None,
        limit: int | None = None,
        text: str | None = None,
    ) -> dict[str, Any]:
        """A dry-run report of ``ruleset`` at ``version`` (default: live) over stored records.

        Returns ``{ruleset, kind, entity, version, live_version, checked,
        changed, changes}`` where each change is ``{id, stamped_version,
        before, after}`` (for validation rule sets: the messages the record
        would get; for triggers: the actions that would run). Raises
        NotFound for an unknown rule set or version. ``text`` replays a draft
        of the rule set's file that is not saved yet (the editor's "before
        publishing"); its version is reported as ``"draft"``.
        """
        live = cast("RulePipeline", self.platform.save_hook).live()
        file = live.files.get(ruleset)
        if file is None:
            raise NotFound(
                f"no live rule set named {ruleset!r}",
                [error_entry(f"known: {', '.join(sorted(live.files))}", field="ruleset")],
            )
        current = live.ruleset(ruleset)
        assert current is not None
        if text is not None:
            loaded = self._compile(text, file, ruleset, "draft")
        elif version in (None, current.version):
            loaded = current
        else:
            loaded = self._load(file, ruleset, cast(int, version))
        report: dict[str, Any] = {
            "ruleset": ruleset,
            "kind": loaded.kind,
            "entity": loaded.entity,
            "version": loaded.version,
            "live_version": current.version,
            "checked": 0,
            "changed": 0,
            "changes": [],
        }
        records = self.platform.records(loaded.entity)
        ctx = self.platform.rules.context("updated")
        offset = 0
        while limit is None or offset < limit:
            size = PAGE if limit is None else min(PAGE, limit - offset)
            page = records.list(limit=size, offset=offset, children=True)
            if not page:
                break
            offset += len(page)
            with self.platform.db.transaction(write=False) as conn:
                stamped = stamps.read(conn, loaded.entity, [r["id"] for r in page])
            for record in page:
                report["checked"] += 1
                change = _difference(loaded, record, ctx)
                if change is not None:
                    s = stamped.get(record["id"], {}).get(ruleset)
                    report["changes"].append(
                        {"id": record["id"], "stamped_version": s and s.version, **change}
                    )
            if len(page) < size:
                break
        report["changed"] = len(report["changes"])
        return report

    def _load(self, file: str, ruleset: str, version: int) -> LoadedRuleSet:
        """Compile one stored version of a rules file in a scratch service."""
        found = [v for v in self.platform.meta.versions("rules", file) if v["version"] == version]
        if not found:
            raise NotFound(
                f"rules file {file!r} has no version {version}",
                [error_entry(f"no version {version}", field="version")],
            )
        return self._compile(found[0]["definition"].get("text", ""), file, ruleset, version)

    def _compile(self, text: str, file: str, ruleset: str, version: Any) -> LoadedRuleSet:
        """Compile a text of a rules file in a scratch service; the rule set ``ruleset``."""
        p = self.platform
        scratch = RuleService(
            p._entity_definition,
            timezone=p.clock.timezone.key,
            clock=p.clock.now,
            loader=p._load_record,
        )
        try:
            scratch.load_ruleset(text, f"rules/{file}.rules", version=version)
        except TesseraError as exc:
            what = (
                f"the draft of {file!r} has errors"
                if version == "draft"
                else f"version {version} of {file!r} no longer checks against the entities"
            )
            raise TesseraError(what, exc.errors) from exc
        loaded = scratch.rulesets().get(ruleset)
        if loaded is None:
            raise NotFound(
                f"version {version} of {file!r} has no rule set {ruleset!r}",
                [error_entry(f"no rule set {ruleset!r} in that version", field="ruleset")],
            )
        return loaded


def _difference(loaded: LoadedRuleSet, record: dict[str, Any], ctx: Any) -> dict[str, Any] | None:
    """What this rule set would change on a stored record, or None."""
    c = loaded.compiled
    value = c.run(record, None, None, ctx, None)
    if loaded.kind == "routing":
        if not isinstance(value, dict) or value.get("type") != "assign":
            return None
        before = {"owner": record.get("owner"), "team": record.get("team")}
        to, target = value.get("to"), value.get("target")
        if to in ("user", "field") and before["owner"] == target:
            return None
        if to in ("team", "queue") and before["team"] == target:
            return None
        return {
            "before": before,
            "after": {k: value.get(k) for k in ("rule", "to", "target", "strategy")},
        }
    if loaded.kind == "validation":
        return {"before": None, "after": value} if value else None
    if loaded.kind in ("trigger", "schedule"):
        return {"before": None, "after": value["actions"]} if value and value["fired"] else None
    targets = c.target if isinstance(c.target, list) else [c.target]
    after = value if isinstance(value, dict) else {c.target: value}
    before = {t: record.get(t) for t in targets}
    after = {t: after.get(t) for t in targets}
    return None if before == after else {"before": before, "after": after}


__all__ = ["RuleHistory"]

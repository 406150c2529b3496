"""What a save runs: the rule pipeline the record service calls through its save hook.

In the write's own transaction, for each record and in the order of
RULES_DSL.md section 2:

1. computed fields (rule-language ``x-computed`` expressions);
2. scoring, grading, decision tables and routing, each writing its target
   (routing runs its action: assign, set, ...); the record is then checked
   against its schema again, since rules wrote into it;
3. validation rule sets: an ``error`` refuses the whole write with a
   ``ValidationError`` located on the fields its condition reads, a
   ``warning`` is handed back with the saved record.

After the rows are written (still in the transaction) the pipeline stamps
each record with the versions that acted on it and evaluates the triggers.
A fired trigger's actions happen after the commit: effects that leave the
system go to the outbox; ``set``/``assign`` become one ``record.update``
message that a follow-up write applies once this transaction has committed
(see ``followups.py``). A rolled-back write therefore enqueues nothing.

A delete runs only the triggers (``when deleted``) and drops the stamps.

Routing acts when a record is created; on an update it acts only when a
different routing rule matches than the one that routed the record last
time (so editing an unrelated field does not pass a lead to the next rep),
and never when the caller changed ``owner`` or ``team`` in that update.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from engine.errors import error_entry
from engine.forms.entity import SYSTEM_FIELDS
from engine.forms.sections import unless_hidden
from engine.rules import followups, stamps
from engine.rules.actions import ActionContext, changes_record, run_action
from engine.rules.assign import assign
from engine.rules.live import EntityRules, LiveRules
from engine.store import outbox
from engine.store.values import to_json_form, to_python_form

if TYPE_CHECKING:
    from engine.ports import PlatformPort
    from engine.rules.service import LoadedRuleSet


class RulePipeline:
    """The platform's save hook (``engine.store.hooks.SaveHook``) running the live rules."""

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        self._live: LiveRules | None = None
        self._lock = threading.Lock()

    def live(self) -> LiveRules:
        """The live rule sets, loaded on first use after each metadata change."""
        live = self._live
        if live is None:
            with self._lock:
                if self._live is None:
                    self._live = LiveRules(self.platform)
                live = self._live
        return live

    def invalidate(self) -> None:
        with self._lock:
            self._live = None

    def reads_new_ids(self, entity: str) -> bool:
        """Whether a create of ``entity`` runs rules, which read the new record's id.

        When not, the store may leave a new record's id None until its INSERT takes
        one from the sequence; should rules go live in between, :meth:`begin` gives
        the records their ids first (``service.assign_ids``).
        """
        return not self.live().for_entity(entity).empty

    def begin(
        self,
        conn: Connection,
        service: Any,
        event: str,
        records: list[dict[str, Any]],
        olds: list[dict[str, Any] | None],
        *,
        prefixed: bool,
    ) -> RuleSave:
        rules = self.live().for_entity(service.entity)
        if event == "created" and not rules.empty and any(r["id"] is None for r in records):
            service.assign_ids(conn, records)  # the rules read ids; see reads_new_ids
        save = RuleSave(self.platform, service, event, rules, records, olds)
        if event == "deleted":
            save.views = [dict(r) for r in records]
        elif not rules.empty:
            save.run_before(conn, prefixed)
        return save


@dataclass
class RuleSave:
    """One write going through the pipeline (the ``Save`` of ``engine.store.hooks``)."""

    platform: PlatformPort
    service: Any
    event: str
    rules: EntityRules
    records: list[dict[str, Any]]
    olds: list[dict[str, Any] | None]
    warnings: list[list[dict[str, Any]]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    ran: list[stamps.Stamp] = field(default_factory=list)
    stamped: dict[int, dict[str, stamps.Stamp]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.warnings = [[] for _ in self.records]
        self.model = self.service.model
        self.now = self.platform.clock.now()
        # Owners given by "least loaded" to earlier records of this batch: they are not
        # stored yet, so the count in the table misses them (see engine.rules.assign).
        self.pending_load: dict[str, int] = {}

    @cached_property
    def user(self) -> dict[str, Any] | None:
        """The ``user`` root of the rules: the acting user (None: the system)."""
        name = self.service.user
        return None if name is None else {"name": name, "team": self.platform.user_team(name)}

    # -- before the write ------------------------------------------------------

    def run_before(self, conn: Connection, prefixed: bool) -> None:
        """Computed fields, scoring to routing, validation; raises ValidationError."""
        if self.event == "updated":
            ids = [old["id"] for old in self.olds if old is not None]
            self.stamped = stamps.read(conn, self.service.entity, ids)
        errors: list[dict[str, Any]] = []
        for i, (record, old) in enumerate(zip(self.records, self.olds)):
            prefix = f"[{i}]." if prefixed else ""
            view = self._view(record, old)
            manual = old is not None and any(view.get(k) != old.get(k) for k in ("owner", "team"))
            self._compute(view, old)
            self._stages(conn, view, old, manual)
            errors += self._revalidate(view, prefix)
            errors += self._validate(view, old, prefix, self.warnings[i])
            for key, value in view.items():
                if key in self.model.fields or key in ("owner", "team"):
                    record[key] = value
            self.views.append(view)
        if errors:
            raise self.service.problems(errors)

    def _view(self, record: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        """What the rules read: the record's fields plus its system fields."""
        if old is None:
            return dict(record)
        view = {k: old.get(k) for k in SYSTEM_FIELDS}
        view.update(record)
        view["version"] = (old.get("version") or 0) + 1
        return view

    def _compute(self, view: dict[str, Any], old: dict[str, Any] | None) -> None:
        for key, expr in self.rules.computed:
            view[key] = expr(view, old=old, user=self.user, event=self.event)

    def _stages(
        self, conn: Connection, view: dict[str, Any], old: dict[str, Any] | None, manual: bool
    ) -> None:
        rs_ctx = self.platform.rules.context(self.event)
        for s in self.rules.stages:
            c = s.compiled
            value = c.run(view, old, self.user, rs_ctx, None)
            rule = None
            if s.kind == "routing":
                rule = value.get("rule") if isinstance(value, dict) else None
                if isinstance(value, dict) and not manual and self._routes(s, view, rule):
                    run_action(self._context(conn, view, s), value)
            elif isinstance(c.target, list):
                view.update(value if isinstance(value, dict) else dict.fromkeys(c.target))
            elif c.target is not None:
                view[c.target] = value
            self.ran.append(stamps.Stamp(view["id"], s.name, s.version, rule))

    def _routes(self, s: LoadedRuleSet, view: dict[str, Any], rule: Any) -> bool:
        """Whether routing acts: always on a create, on an update when another rule matches."""
        if self.event != "updated":
            return True
        last = self.stamped.get(view["id"], {}).get(s.name)
        return last is None or last.rule != rule

    def _revalidate(self, view: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
        """Rules wrote into the record: check it against the schema again."""
        if not (self.rules.computed or self.rules.stages):
            return []
        doc = to_json_form(self.model, view)
        errors = self.platform.validator(self.service.entity).errors(doc, prefix=prefix)
        errors = unless_hidden(
            errors,
            self.model.definition,
            view,
            lambda text: self.platform.rules.compile(text, self.service.entity),
            prefix,
        )
        if not errors:
            view.update(to_python_form(self.model, doc))
        return errors

    def _validate(
        self,
        view: dict[str, Any],
        old: dict[str, Any] | None,
        prefix: str,
        warnings: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = []
        rs_ctx = self.platform.rules.context(self.event)
        for s in self.rules.validations:
            for msg in s.compiled.run(view, old, self.user, rs_ctx, None) or []:
                out = errors if msg["severity"] == "error" else warnings
                for name in msg["fields"] or [None]:
                    out.append(
                        error_entry(
                            msg["message"],
                            field=None if name is None else f"{prefix}{name}",
                            severity=msg["severity"],
                            ruleset=s.name,
                        )
                    )
        return errors

    # -- after the write -------------------------------------------------------

    def finish(self, conn: Connection) -> None:
        """Stamp the records and queue what the triggers do (delivered after the commit)."""
        if self.rules.empty:
            return
        self.pending_load.clear()  # the records are stored now and count themselves
        entity = self.service.entity
        if self.event == "deleted":
            stamps.forget(conn, entity, [v["id"] for v in self.views])
        elif self.ran:
            stamps.write(conn, entity, self.ran, self.stamped, self.now)
        follow: list[Any] = []
        rs_ctx = self.platform.rules.context(self.event)
        for view, old in zip(self.views, self.olds):
            for s in self.rules.triggers:
                result = s.compiled.run(view, old, self.user, rs_ctx, None)
                if not result or not result["fired"]:
                    continue
                ctx = self._context(conn, view, s)
                later = []
                for action in result["actions"]:
                    if changes_record(action):
                        if self.event != "deleted":  # nothing left to change
                            later.append(action)
                    else:
                        run_action(ctx, action)
                if later:
                    follow.append(followups.enqueue(conn, ctx, self.model, later))
        follow = [i for i in follow if i is not None]
        if follow:
            self.platform.db.after_commit(partial(followups.apply, self.platform, follow))

    # -- helpers ---------------------------------------------------------------

    def _context(self, conn: Connection, view: dict[str, Any], s: LoadedRuleSet) -> ActionContext:
        live = self.service.live
        return ActionContext(
            entity=self.service.entity,
            record_id=view.get("id"),
            record=view,
            fields=frozenset(self.model.fields),
            event=self.event,
            now=self.now,
            ruleset=s.name,
            version=s.version,
            user=self.service.user,
            key=f"rules:{self.service.entity}:{view.get('id')}:{view.get('version')}:{s.name}",
            assigner=partial(
                assign,
                conn,
                model=self.model,
                table=live.table,
                user_team=self.platform.user_team,
                pending=self.pending_load,
            ),
            enqueuer=partial(_enqueue, conn, self.now),
        )


def _enqueue(
    conn: Connection, now: Any, kind: str, payload: dict[str, Any], key: str | None
) -> int | None:
    return outbox.enqueue(conn, kind, payload, now=now, key=key)


__all__ = ["RulePipeline", "RuleSave"]

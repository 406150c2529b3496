"""Running a ``convert`` action: one source record becomes its targets, all or nothing.

Everything happens in one transaction: the duplicate check of each reusable
target, the new records (each saved through the ordinary record service as
the user, so their rules run and their permissions hold), and the source
record's mark and links. A refusal anywhere rolls back every record made
before it. The duplicate check sits in the same transaction as the inserts,
so two users converting leads of one company do not both create its account
(the problem EspoCRM's issue 3499 describes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import ConflictError, NotFound, ValidationError, error_entry
from engine.record_actions.definition import ConvertAction, ConvertTarget, actions_of

if TYPE_CHECKING:
    from engine.platform import Platform


@dataclass
class PlannedRecord:
    """What one target will become: new values, or the existing record it reuses."""

    target: ConvertTarget
    values: dict[str, Any]
    reuse: dict[str, Any] | None = None
    missing: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target.name,
            "entity": self.target.entity,
            "optional": self.target.optional,
            "values": self.values,
            "reuse": self.reuse,
            "missing": self.missing,
        }


class RecordActions:
    """The ``actions`` entities declare: which a record offers, a preview, and running one."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def declared(self, entity: str) -> dict[str, ConvertAction]:
        """The actions of ``entity`` by name (none for an entity that declares none)."""
        return actions_of(self.platform.entities.get(entity).model.definition)

    def action(self, entity: str, name: str) -> ConvertAction:
        """The action ``name`` of ``entity``; NotFound naming it otherwise."""
        found = self.declared(entity).get(name)
        if found is None:
            raise NotFound(
                f"{entity} has no action {name!r}",
                [error_entry(f"{entity} declares no action {name!r}", field="action")],
            )
        return found

    def done(self, action: ConvertAction, record: dict[str, Any]) -> bool:
        """Whether ``record`` already carries the action's mark (a converted lead)."""
        return bool(action.mark) and all(record.get(k) == v for k, v in action.mark.items())

    def available(self, entity: str, record: dict[str, Any], user: str) -> list[ConvertAction]:
        """The actions ``user`` may run on ``record`` now: not done, and every target creatable."""
        access = self.platform.access(user)
        if not access.scopes(entity, "update"):
            return []
        return [
            a
            for a in self.declared(entity).values()
            if not self.done(a, record)
            and all(access.scopes(t.entity, "create") for t in a.targets if not t.optional)
        ]

    # -- preview --------------------------------------------------------------

    def preview(
        self, entity: str, record_id: int, name: str, user: str, *, skip: tuple[str, ...] = ()
    ) -> list[PlannedRecord]:
        """What running the action would create or reuse, without writing anything."""
        action = self.action(entity, name)
        record = self.platform.records(entity, user).get(record_id)
        return self.plan(action, record, skip, {})

    def plan(
        self,
        action: ConvertAction,
        record: dict[str, Any],
        skip: tuple[str, ...],
        overrides: dict[str, dict[str, Any]],
    ) -> list[PlannedRecord]:
        """What ``action`` makes of ``record``: each target's values, reuse and empty required fields."""
        planned = []
        for target in action.targets:
            if target.optional and target.name in skip:
                continue
            values = {k: record.get(src) for k, src in target.fields.items()}
            values = {k: v for k, v in values.items() if v not in (None, "", [])}
            values.update(target.values)
            values.update(overrides.get(target.name) or {})
            item = PlannedRecord(target, values, self._existing(target, record))
            if item.reuse is None:
                item.missing = self._missing(action, target, values)
            planned.append(item)
        return planned

    def _existing(self, target: ConvertTarget, record: dict[str, Any]) -> dict[str, Any] | None:
        """The record of ``target.entity`` matching every ``reuse`` pair, if any (as the system)."""
        if not target.reuse:
            return None
        filters = {k: record.get(src) for k, src in target.reuse.items()}
        if any(v in (None, "") for v in filters.values()):
            return None
        found = self.platform.records(target.entity).list(filters=filters, order_by="id", limit=1)
        if not found:
            return None
        model = self.platform.entities.get(target.entity).model
        title = found[0].get(model.title_field) if model.title_field else None
        return {"id": found[0]["id"], "title": str(title or f"#{found[0]['id']}")}

    def _missing(
        self, action: ConvertAction, target: ConvertTarget, values: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Located entries for each required field of the new record left empty."""
        model = self.platform.entities.get(target.entity).model
        supplied = set(values) | set(target.refs) | ({target.backlink} - {None})
        out = []
        for key, f in model.fields.items():
            if not f.required or f.removed or f.read_only or key in supplied:
                continue
            if f.prop.get("x-default") is not None or "default" in f.prop:
                continue
            source = next((s for k, s in target.fields.items() if k == key), None)
            where = source or f"{target.name}.{key}"
            out.append(
                error_entry(
                    f"the new {target.entity} needs {key}"
                    + (f": fill in {source} on the {action.entity} first" if source else ""),
                    field=where,
                    code="required",
                    target=target.name,
                )
            )
        return out

    # -- running --------------------------------------------------------------

    def convert(
        self,
        entity: str,
        record_id: int,
        name: str,
        user: str,
        *,
        skip: tuple[str, ...] = (),
        overrides: dict[str, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Run the ``convert`` action ``name`` on one record as ``user``; all or nothing.

        Returns ``{"record", "created": [{target, entity, id, title, reused}],
        "open": {entity, id}}``. Raises ConflictError when the record already
        carries the action's mark, ValidationError naming each empty required
        field (by the source field to fill in), PermissionDenied when the user
        may not change the record or create a target.
        """
        action = self.action(entity, name)
        unknown = [s for s in skip if action.target(s) is None or not action.target(s).optional]
        if unknown:
            raise ValidationError(
                "only optional targets can be left out",
                [error_entry(f"{s!r} is not an optional target", field="skip") for s in unknown],
            )
        access = self.platform.access(user)
        access.require(entity, "update")
        p = self.platform
        with p.db.transaction() as conn:
            source = p.records(entity, user)
            access.require_row(conn, entity, "update", source.live.table, record_id)
            record = source.get(record_id)
            if self.done(action, record):
                self._refuse_done(action, entity, record_id, record)
            plan = self.plan(action, record, skip, overrides or {})
            missing = [e for item in plan for e in item.missing]
            if missing:
                raise ValidationError(f"{entity} {record_id} cannot be converted yet", missing)
            for item in plan:
                if item.reuse is None:
                    access.require(item.target.entity, "create")
            ids: dict[str, int] = {}
            created = []
            for item in plan:
                if item.reuse is not None:
                    ids[item.target.name] = item.reuse["id"]
                    created.append({**self._summary(item, item.reuse), "reused": True})
                    continue
                data = dict(item.values)
                data.update({k: ids[ref] for k, ref in item.target.refs.items() if ref in ids})
                if item.target.backlink:
                    data[item.target.backlink] = record_id
                new = p.records(item.target.entity, user).create(data)
                ids[item.target.name] = new["id"]
                model = p.entities.get(item.target.entity).model
                title = new.get(model.title_field) if model.title_field else None
                summary = {"id": new["id"], "title": str(title or f"#{new['id']}")}
                created.append({**self._summary(item, summary), "reused": False})
            changes = dict(action.mark)
            changes.update(
                {t.link: ids[t.name] for t in action.targets if t.link and t.name in ids}
            )
            updated = source.update(record_id, changes, version=record["version"])
        opened = action.open if action.open in ids else next(iter(ids), None)
        return {
            "record": updated,
            "created": created,
            "open": (
                {"entity": action.target(opened).entity, "id": ids[opened]} if opened else None
            ),
        }

    def _summary(self, item: PlannedRecord, found: dict[str, Any]) -> dict[str, Any]:
        return {"target": item.target.name, "entity": item.target.entity, **found}

    def _refuse_done(
        self, action: ConvertAction, entity: str, record_id: int, record: dict[str, Any]
    ) -> None:
        marks = ", ".join(f"{k} is {v}" for k, v in action.mark.items())
        links = [
            f"{t.entity} {record.get(t.link)}"
            for t in action.targets
            if t.link and record.get(t.link)
        ]
        raise ConflictError(
            f"{entity} {record_id} was already converted ({marks})"
            + (f" into {', '.join(links)}" if links else ""),
            [
                error_entry(f"already {v}", field=k, code="already_converted")
                for k, v in action.mark.items()
            ],
        )


__all__ = ["PlannedRecord", "RecordActions"]

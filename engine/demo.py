"""Demo data from a bundle's recipe: ``tessera demo`` reads ``demo/*.yaml`` and acts on it.

The recipe is data in the bundle (see ``apps/crm/demo/demo.yaml``); this module knows
nothing about any particular app. It installs the bundle, creates the recipe's users and
teams, then creates deterministic records through the ordinary record services *as those
users*, so permissions apply and every rule set (scoring, grading, tables, routing,
validation, triggers) acts on the data as it would on a user's input.

The platform's clock is moved to each record's moment while it is created, so the
``created_on`` dates (and ``now()`` in the rules) spread over the months a report shows.

A step names its ``entity``, how many records (``count`` per size, or ``per: entity`` with
``each: [lo, hi]`` for every record of another entity), who creates them (``as``: a user
name, ``{role: r}`` taking turns, or ``{owner_of: field}``), when (``at: {days: [lo, hi]}``),
``fields``, and ``system``: fields users may not write, written by the system just after.

Value specs (each field of a recipe step):

=====================================  =================================================
``literal``                            as written
``{choice: [a, b]}``                   one of the values; weighted with ``weights: [3, 1]``
                                       or as ``{choice: {a: 3, b: 1}}`` (text keys)
``{int: [lo, hi]}``                    an integer, both ends included
``{number: [lo, hi], step: 1000}``     a number rounded to ``step``
``{faker: method, locale: en_US}``     a Faker provider (the recipe's first locale by default)
``{days: [lo, hi]}``                   a date, days from the record's moment
``{hours: [lo, hi]}``                  a date-time, hours from the record's moment
``{ref: entity}``                      the id of a random record of ``entity``
``{copy: path}``                       a value of this row (``rep``), of a record it references
                                       (``account.name``) or of the ``parent`` record
``{join: [spec, ...], sep: " "}``      the values as text, joined
``{chance: p, value: spec, else: s}``  ``value`` with probability ``p``, else ``else`` (or nothing)
``{when: {field: [v, ...]}, value: s,  ``value`` when the row's field holds one of the values
else: s}``
``{user: role}``                       the name of a random user with that role
``{rows: [lo, hi], fields: {...}}``    child-table rows
=====================================  =================================================
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.errors import ConflictError, PermissionDenied, TesseraError, ValidationError

SIZES = ("small", "medium", "large", "full")
BATCH = 200  # records per create_many at most


@dataclass
class DemoReport:
    """What a demo run did."""

    installed: str = ""
    users_added: list[str] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    refused: dict[str, list[str]] = field(default_factory=dict)
    reused: bool = False
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (role, user, password)


def load_recipe(bundle_dir: str | Path) -> dict[str, Any]:
    """The bundle's demo recipe (``demo/demo.yaml``), read with the bundle's YAML rules."""
    from engine.meta.reader import read_bundle

    source = read_bundle(Path(bundle_dir))
    recipes = source.items("demo")
    if not recipes:
        raise TesseraError(f"{bundle_dir}: the bundle has no demo/*.yaml recipe")
    recipe: dict[str, Any] = {}
    for f in recipes:  # several files merge; later keys and lists extend earlier ones
        for key, value in (f.data or {}).items():
            if isinstance(value, list) and isinstance(recipe.get(key), list):
                recipe[key] = recipe[key] + value
            elif isinstance(value, dict) and isinstance(recipe.get(key), dict):
                recipe[key] = {**recipe[key], **value}
            else:
                recipe[key] = value
    return recipe


def password_for(recipe: dict[str, Any], name: str) -> str:
    return str(recipe.get("password", "{name}-demo")).format(name=name)


def count_planned(recipe: dict[str, Any], size: str) -> int:
    """How many records the steps with a fixed count will make (for a progress bar)."""
    total = 0
    for step in recipe.get("records", []):
        if "per" in step:
            lo, hi = step.get("each", [1, 1])
            parent = next(
                (s for s in recipe["records"] if s["entity"] == step["per"] and "count" in s), None
            )
            total += _count(parent, size) * (lo + hi) // 2 if parent else 0
        else:
            total += _count(step, size)
    return total


def _count(step: dict[str, Any], size: str) -> int:
    count = step.get("count", 0)
    return int(count.get(size, 0)) if isinstance(count, dict) else int(count)


def setup_people(platform: Any, recipe: dict[str, Any], report: DemoReport) -> None:
    """Create the recipe's users (skipping existing ones) and set its teams' members."""
    for user in recipe.get("users", []):
        name = user["name"]
        if platform.users.find(name) is None:
            try:
                platform.users.add(
                    name,
                    password=password_for(recipe, name),
                    roles=list(user.get("roles", [])),
                    team=user.get("team"),
                    manager=user.get("manager"),
                    email=user.get("email"),
                    label=user.get("label"),
                )
                report.users_added.append(name)
            except ConflictError:  # created meanwhile by another process
                pass
    for name, team in (recipe.get("teams") or {}).items():
        platform.teams.create(name, team.get("members", []), label=team.get("label"))
    seen: set[str] = set()
    for user in recipe.get("users", []):
        for role in user.get("roles", []):
            if role not in seen:
                seen.add(role)
                report.logins.append((role, user["name"], password_for(recipe, user["name"])))


@dataclass
class Planned:
    """One record a step will create: when, as whom, its fields, and what happens later."""

    moment: dt.datetime
    user: str | None
    data: dict[str, Any]
    later: dict[str, Any]
    moves: list[tuple[dt.datetime, dict[str, Any]]]


def batches(planned: list[Planned], days: float, anchor: dt.datetime) -> list[list[Planned]]:
    """Records in time order, grouped into batches of one user within ``days`` of each other.

    Each batch is one ``create_many`` (one transaction, rules run for every record); its
    records share the batch's first moment, so a report's dates move by less than ``days``.
    """
    width = max(days, 1e-6) * 86400
    groups: dict[tuple[Any, int], list[Planned]] = {}
    for p in sorted(planned, key=lambda p: p.moment):
        window = int((anchor - p.moment).total_seconds() // width)
        group = groups.setdefault((p.user, window), [])
        if len(group) >= BATCH:
            groups[(p.user, window, len(groups))] = group  # type: ignore[index]
            group = groups[(p.user, window)] = []
        group.append(p)
    return sorted((g for g in groups.values() if g), key=lambda g: g[0].moment)


class Generator:
    """Turns recipe steps into records, deterministically for one seed and size."""

    def __init__(self, platform: Any, recipe: dict[str, Any], size: str) -> None:
        from faker import Faker

        if size not in SIZES:
            raise TesseraError(f"size {size!r}: use one of {', '.join(SIZES)}")
        self.p = platform
        self.recipe = recipe
        self.size = size
        seed = int(recipe.get("seed", 0))
        self.rng = random.Random(seed)
        self.locales = list(recipe.get("locales") or ["en_US"])
        self.fakers = {}
        for i, loc in enumerate(self.locales):
            fk = Faker(loc)
            fk.seed_instance(seed + i)
            self.fakers[loc] = fk
        self.by_role: dict[str, list[str]] = {}
        for user in recipe.get("users", []):
            for role in user.get("roles", []):
                self.by_role.setdefault(role, []).append(user["name"])
        self.records: dict[str, dict[int, dict[str, Any]]] = {}  # entity -> id -> record
        self.turns: dict[int, int] = {}
        self.current: dict[str, Any] = {}  # the step being run
        self.services: dict[tuple[str, str | None], Any] = {}
        # A fixed anchor (today at 09:00 UTC) keeps a day's runs identical.
        today = platform.clock.now().date()
        self.anchor = dt.datetime(today.year, today.month, today.day, 9, tzinfo=dt.UTC)

    # -- references ------------------------------------------------------------
    def _pool(self, entity: str) -> dict[int, dict[str, Any]]:
        if entity not in self.records:
            rows = self.p.records(entity).list(limit=None)
            self.records[entity] = {r["id"]: r for r in rows}
        return self.records[entity]

    def _props(self, entity: str) -> dict[str, Any]:
        return self.p.meta.get("entity", entity)["definition"]["schema"].get("properties", {})

    def _ref_entity(self, props: dict[str, Any], key: str) -> str | None:
        prop = props.get(key) or {}
        return prop.get("x-ref")

    def _copy(self, path: str, row: dict[str, Any], props: dict[str, Any], parent: Any) -> Any:
        head, *rest = path.split(".")
        if head == "parent":
            value: Any = parent
            entity = None
        else:
            value = row.get(head)
            entity = self._ref_entity(props, head)
        for part in rest:
            if value is None:
                return None
            if entity is not None and not isinstance(value, dict):
                value = self._pool(entity).get(value)
                if value is None:
                    return None
            if isinstance(value, dict):
                nxt = self._ref_entity(self._props(entity), part) if entity else None
                value = value.get(part)
                entity = nxt
        return value

    # -- values ----------------------------------------------------------------
    def value(
        self, spec: Any, row: dict[str, Any], props: dict[str, Any], ctx: dict[str, Any]
    ) -> Any:
        rng = self.rng
        if not isinstance(spec, dict):
            return spec
        if "choice" in spec:
            options = spec["choice"]
            if isinstance(options, dict):
                keys = list(options)
                return rng.choices(keys, weights=[options[k] for k in keys])[0]
            picked = (
                rng.choices(options, weights=spec["weights"])[0]
                if "weights" in spec
                else rng.choice(options)
            )
            return self.value(picked, row, props, ctx)  # a choice may be a spec itself
        if "int" in spec:
            lo, hi = spec["int"]
            return rng.randint(lo, hi)
        if "number" in spec:
            lo, hi = spec["number"]
            step = spec.get("step", 1)
            n = round(rng.uniform(lo, hi) / step) * step
            return int(n) if float(step).is_integer() else Decimal(str(round(n, 6)))
        if "faker" in spec:
            fk = self.fakers.get(spec.get("locale", self.locales[0])) or next(
                iter(self.fakers.values())
            )
            return getattr(fk, spec["faker"])(*spec.get("args", []))
        if "days" in spec:
            lo, hi = spec["days"]
            return (ctx["moment"] + dt.timedelta(days=rng.randint(lo, hi))).date().isoformat()
        if "hours" in spec:
            lo, hi = spec["hours"]
            moment = ctx["moment"] + dt.timedelta(hours=rng.uniform(lo, hi))
            return min(moment, ctx["moment"]).isoformat() if hi <= 0 else moment.isoformat()
        if "ref" in spec:
            pool = self._pool(spec["ref"])
            return rng.choice(sorted(pool)) if pool else None
        if "copy" in spec:
            return self._copy(spec["copy"], row, props, ctx.get("parent"))
        if "join" in spec:
            parts = [self.value(s, row, props, ctx) for s in spec["join"]]
            return spec.get("sep", " ").join(str(p) for p in parts if p is not None)
        if "chance" in spec:
            if rng.random() < spec["chance"]:
                return self.value(spec.get("value"), row, props, ctx)
            return self.value(spec["else"], row, props, ctx) if "else" in spec else None
        if "when" in spec:
            ok = all(
                row.get(k) in (v if isinstance(v, list) else [v]) for k, v in spec["when"].items()
            )
            if ok:
                return self.value(spec.get("value"), row, props, ctx)
            return self.value(spec["else"], row, props, ctx) if "else" in spec else None
        if "user" in spec:
            return rng.choice(self.by_role.get(spec["user"], [None]))
        if "rows" in spec:
            lo, hi = spec["rows"]
            child_props = (props.get(ctx["key"]) or {}).get("items", {}).get("properties", {})
            out = []
            for _ in range(rng.randint(lo, hi)):
                out.append(self.row(spec.get("fields", {}), child_props, ctx))
            return out
        return spec  # a literal mapping

    def row(
        self, fields: dict[str, Any], props: dict[str, Any], ctx: dict[str, Any]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, spec in fields.items():
            value = self.value(spec, out, props, {**ctx, "key": key})
            if value is not None:
                out[key] = value
        return out

    # -- steps -----------------------------------------------------------------
    def _actor(
        self, step: dict[str, Any], row: dict[str, Any], props: dict[str, Any], n: int
    ) -> str | None:
        who = step.get("as")
        if who is None or isinstance(who, str):
            return who
        if "role" in who:
            users = self.by_role.get(who["role"], [])
            return users[n % len(users)] if users else None
        if "owner_of" in who:
            entity = self._ref_entity(props, who["owner_of"])
            target = self._pool(entity).get(row.get(who["owner_of"])) if entity else None
            return (target or {}).get("owner")
        return None

    def _moment(self, step: dict[str, Any]) -> dt.datetime:
        at = step.get("at")
        if not at:
            return self.anchor
        lo, hi = at["days"]
        moment = self.anchor + dt.timedelta(days=self.rng.uniform(lo, hi))
        return min(moment, self.anchor)

    def plan(self, step: dict[str, Any]) -> list[Any]:
        """The parents (or Nones) of the records a step makes."""
        if "per" in step:
            lo, hi = step.get("each", [1, 1])
            parents = [self._pool(step["per"])[k] for k in sorted(self._pool(step["per"]))]
            return [p for p in parents for _ in range(self.rng.randint(lo, hi))]
        return [None] * _count(step, self.size)

    def run(self, report: DemoReport, tick: Callable[[int], None] | None = None) -> None:
        try:
            for step in self.recipe.get("records", []):
                self._step(step, report, tick)
        finally:
            self.p.clock.set(None)

    def _step(
        self, step: dict[str, Any], report: DemoReport, tick: Callable[[int], None] | None
    ) -> None:
        """Plan every record of a step, then create them in batches (see ``batches``)."""
        entity = step["entity"]
        props = self._props(entity)
        self.current = step
        planned = []
        for n, parent in enumerate(self.plan(step)):
            moment = self._moment(step)
            ctx = {"moment": moment, "parent": parent}
            data = self.row(step.get("fields", {}), props, ctx)
            user = self._actor(step, data, props, n)
            later = {k: data.pop(k) for k in step.get("system", []) if k in data}
            moves = self._moves(step, data, props, ctx) if "history" in step else []
            planned.append(Planned(moment, user, data, later, moves))
        made = 0
        for batch in batches(planned, float(self.recipe.get("batch_days", 1)), self.anchor):
            made += self._create(entity, batch, report)
            if tick:
                tick(len(batch))
        report.created[entity] = report.created.get(entity, 0) + made

    def _create(self, entity: str, batch: list[Planned], report: DemoReport) -> int:
        """Create one batch in one transaction as its user at its first moment.

        A batch is all or nothing: when one record is refused, its records are created one
        by one, so the others are still made and the refused one is reported."""
        self.p.clock.set(batch[0].moment)
        service = self._service(entity, batch[0].user)
        try:
            made = list(zip(batch, service.create_many([b.data for b in batch])))
        except (ValidationError, PermissionDenied):
            made = []
            for b in batch:
                try:
                    made.append((b, service.create(b.data)))
                except (ValidationError, PermissionDenied) as exc:
                    report.refused.setdefault(entity, []).append(f"as {b.user}: {exc}")
        system = self._service(entity, None)
        for b, rec in made:
            if b.later:
                system.update(rec["id"], b.later)
            for moment, changes in b.moves:
                if not self._move(entity, rec["id"], b.user, moment, changes, report):
                    break
        # As the system sees them: every field, after the rules and the moves. Read one by
        # one: a condition listing the ids would be a new rule text to compile per batch.
        pool = self._pool(entity)
        for _b, rec in made:
            pool[rec["id"]] = system.get(rec["id"])
        return len(made)

    def _service(self, entity: str, user: str | None) -> Any:
        """The record service of ``entity`` as ``user``, made once: a run makes thousands of
        writes as a few dozen users, and each service reads the user's permissions."""
        key = (entity, user)
        if key not in self.services:
            self.services[key] = self.p.records(entity, user=user)
        return self.services[key]

    def _moves(
        self, step: dict[str, Any], data: dict[str, Any], props: dict[str, Any], ctx: dict[str, Any]
    ) -> list[tuple[dt.datetime, dict[str, Any]]]:
        """The later changes of a record with ``history``: its stage moves, one at a time.

        The record is created at the first stage of ``path``; it then moves along the path
        (``days`` apart) to the stage the row drew, or leaves the path for it (``lost``)
        after a random number of moves. ``final`` fields go with the last move, valued at
        its moment (a close date is the day of the close). Moves later than now are not
        made: that deal is still on its way.
        """
        spec = step["history"]
        key, path = spec["field"], list(spec["path"])
        target = data.get(key, path[0])
        if target in path:
            stages = path[1 : path.index(target) + 1]
        else:
            stages = [*path[1 : self.rng.randint(1, len(path) - 1)], target]
        data[key] = path[0]
        final_specs = {k: step["fields"][k] for k in spec.get("final", []) if k in step["fields"]}
        for k in final_specs:
            data.pop(k, None)
        lo, hi = spec.get("days", [1, 30])
        moment, moves = ctx["moment"], []
        for i, stage in enumerate(stages):
            moment = moment + dt.timedelta(days=self.rng.uniform(lo, hi))
            if moment > self.anchor:
                break
            changes = {key: stage}
            if i == len(stages) - 1:
                row = {**data, key: stage}
                for k, v in final_specs.items():
                    value = self.value(v, row, props, {**ctx, "moment": moment, "key": k})
                    if value is not None:
                        changes[k] = row[k] = value
            moves.append((moment, changes))
        return moves

    def _move(
        self,
        entity: str,
        record_id: int,
        user: str | None,
        moment: dt.datetime,
        changes: dict[str, Any],
        report: DemoReport,
    ) -> bool:
        """One stage move as the record's user at its moment (False: refused, stop there).

        A move may wait for an approval a flow asks for (a large deal waits for the
        director): the recipe's ``approve`` names the role that decides, and its first user
        completes the open tasks of that role on the record first, as they would."""
        self.p.clock.set(moment)
        self._approve(entity, record_id)
        try:
            self._service(entity, user).update(record_id, changes)
        except (ValidationError, PermissionDenied) as exc:
            report.refused.setdefault(entity, []).append(f"move as {user}: {exc}")
            return False
        return True

    def _approve(self, entity: str, record_id: int) -> None:
        """Complete the open flow tasks on the record that the ``approve`` role decides."""
        approve = self.current.get("history", {}).get("approve")
        if not approve:
            return
        from sqlalchemy import select

        from engine.flows.tables import flow_instances

        with self.p.db.transaction(write=False) as conn:
            running = list(
                conn.execute(
                    select(flow_instances.c.id).where(
                        flow_instances.c.entity == entity,
                        flow_instances.c.record_id == record_id,
                        flow_instances.c.status == "running",
                    )
                ).scalars()
            )
        role = approve["role"]
        who = (self.by_role.get(role) or [None])[0]
        for instance in running:
            for task in self.p.flows.tasks(roles=[role], instance=instance):
                self.p.flows.complete(task["id"], approve.get("outcome", "approve"), user=who)


def run_demo(
    platform: Any,
    bundle_dir: str | Path,
    size: str = "medium",
    tick: Callable[[int], None] | None = None,
    before_data: Callable[[int], None] | None = None,
) -> DemoReport:
    """Install the bundle, create its demo users and teams, and load its demo data once.

    A second run upgrades the bundle in place (an unchanged bundle changes nothing), keeps
    the users, and loads no more data when the recipe's first entity already has records.
    ``before_data(total)`` is called with the planned record count before data loads.
    """
    recipe = load_recipe(bundle_dir)
    report = DemoReport()
    install = platform.install(Path(bundle_dir))
    report.installed = install.summary().splitlines()[0] if install.summary() else ""
    setup_people(platform, recipe, report)
    steps = recipe.get("records", [])
    if steps and platform.records(steps[0]["entity"]).count() > 0:
        report.reused = True
        return report
    if before_data:
        before_data(count_planned(recipe, size))
    Generator(platform, recipe, size).run(report, tick)
    return report


__all__ = ["SIZES", "DemoReport", "Generator", "load_recipe", "run_demo"]

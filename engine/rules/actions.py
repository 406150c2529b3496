"""The action registry: what a rule may do once it fires, each type with a config schema.

Routing rules, triggers and schedules end in actions (``set``, ``assign``,
``create task``, ``notify``, ``start flow``, ``add tag``, ``call webhook``).
Each type is registered here with a name, a JSON Schema for its config (the
editor renders it as a form) and a ``run`` function. Developers add their own
with :func:`register_action` or through the ``tessera.actions`` entry-point
group, the same door the built-ins use.

An action never reaches outside the engine by itself. It receives an
:class:`ActionContext` and may change the record being saved (``set``,
``assign``) or enqueue a message in the outbox (everything that leaves the
system: mail, tasks, flows, webhooks), so a rolled-back save has no effect.
This module knows nothing of flows: starting one is a message of kind
``flow`` that the flow engine delivers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from engine.errors import PluginError, error_entry

#: ``assign(to, target, strategy)`` → ``(owner, team)``; supplied by the pipeline.
Assigner = Callable[[str, Any, "str | None"], tuple["str | None", "str | None"]]
#: ``enqueue(kind, payload, key)`` → outbox id; supplied by the pipeline.
Enqueuer = Callable[[str, dict[str, Any], "str | None"], Any]


@dataclass
class ActionContext:
    """What an action may touch while it runs.

    ``record`` holds the record's current values (system fields included) and
    is updated by :meth:`set` and :meth:`assign`; ``changes`` collects what
    they changed, which is what a follow-up write stores. ``fields`` are the
    entity's field keys. ``key`` prefixes the idempotency keys of the
    messages this run enqueues, so a retried delivery never doubles them.
    """

    entity: str
    record_id: Any
    record: dict[str, Any]
    fields: frozenset[str]
    event: str | None
    now: dt.datetime
    ruleset: str | None = None
    version: Any = None
    user: str | None = None
    key: str | None = None
    assigner: Assigner | None = None
    enqueuer: Enqueuer | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    _sent: int = 0

    def set(self, key: str, value: Any) -> None:
        """Change one field of the record being saved."""
        self.record[key] = value
        self.changes[key] = value

    def assign(self, to: str, target: Any, strategy: str | None = None) -> None:
        """Give the record an owner and team (see ``engine.rules.assign``)."""
        if self.assigner is None:
            raise PluginError("this context cannot assign records")
        owner, team = self.assigner(to, target, strategy)
        self.set("owner", owner)
        self.set("team", team)

    def enqueue(self, kind: str, payload: dict[str, Any]) -> Any:
        """Leave a message for after the commit; the source record is added to the payload."""
        if self.enqueuer is None:
            raise PluginError("this context cannot send messages")
        self._sent += 1
        key = None if self.key is None else f"{self.key}:{self._sent}"
        body = {
            "entity": self.entity,
            "record_id": self.record_id,
            "event": self.event,
            "ruleset": self.ruleset,
            "version": self.version,
            **payload,
        }
        return self.enqueuer(kind, body, key)


@dataclass(frozen=True)
class ActionType:
    """One kind of action.

    ``changes_record`` marks actions that change the record itself (``set``,
    ``assign``): inside a save they apply before the write; from a trigger
    (which runs after the commit) they apply in a follow-up write.
    """

    name: str
    config_schema: dict[str, Any]
    run: Callable[[ActionContext, dict[str, Any]], None]
    changes_record: bool = False
    label: str | None = None


_registry: dict[str, ActionType] = {}
_validators: dict[str, Draft202012Validator] = {}


def register_action(action: ActionType, *, replace: bool = False) -> ActionType:
    """Add an action type. Raises PluginError naming it when it does not fit the contract."""
    _ensure_builtins()
    problems = []
    if not isinstance(action, ActionType):
        raise PluginError(f"action {action!r} is not an ActionType")
    if not action.name or not action.name.replace("_", "").replace(".", "").isalnum():
        problems.append("needs a name made of letters, digits, '_' and '.'")
    if action.name in _registry and not replace:
        problems.append("is already registered")
    if not callable(action.run):
        problems.append("needs a callable run(ctx, config)")
    try:
        Draft202012Validator.check_schema(action.config_schema)
    except SchemaError as exc:
        problems.append(f"has an invalid config schema: {exc.message}")
    if problems:
        raise PluginError(
            f"action {action.name!r} " + "; ".join(problems),
            [error_entry(p, field=action.name) for p in problems],
        )
    _registry[action.name] = action
    _validators.pop(action.name, None)
    return action


def action_types() -> dict[str, ActionType]:
    """Every registered action type by name, built-ins first."""
    _ensure_builtins()
    return dict(_registry)


def get_action(name: str) -> ActionType:
    _ensure_builtins()
    try:
        return _registry[name]
    except KeyError:
        raise PluginError(
            f"no action type named {name!r}",
            [error_entry(f"known actions: {', '.join(sorted(_registry))}", field="type")],
        ) from None


def config_of(action: dict[str, Any]) -> dict[str, Any]:
    """The config part of a compiled action dict (everything but its type and rule label)."""
    return {k: v for k, v in action.items() if k not in ("type", "rule")}


def validate_config(name: str, config: dict[str, Any]) -> list[dict[str, Any]]:
    """Located problems of ``config`` (JSON form) against the action's schema; empty when valid."""
    action = get_action(name)
    validator = _validators.get(name)
    if validator is None:
        validator = _validators[name] = Draft202012Validator(action.config_schema)
    return [
        error_entry(e.message, field=".".join(str(p) for p in e.absolute_path) or None)
        for e in validator.iter_errors(config)
    ]


def run_action(ctx: ActionContext, action: dict[str, Any]) -> None:
    """Run one compiled action dict (``{"type": ..., **config}``) in ``ctx``."""
    get_action(action["type"]).run(ctx, config_of(action))


def changes_record(action: dict[str, Any]) -> bool:
    return get_action(action["type"]).changes_record


ENTRY_POINT_GROUP = "tessera.actions"
_loaded = False


def _ensure_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from engine.rules import builtin_actions

    builtin_actions.register_all()
    load_entry_points()


def load_entry_points() -> list[str]:
    """Register the action types installed packages declare in ``tessera.actions``."""
    from engine.plugins import plugins

    names = []
    for ep, obj in plugins(ENTRY_POINT_GROUP, "action"):
        register_action(obj() if callable(obj) and not isinstance(obj, ActionType) else obj)
        names.append(ep.name)
    return names


__all__ = [
    "ActionContext",
    "ActionType",
    "action_types",
    "changes_record",
    "config_of",
    "get_action",
    "register_action",
    "run_action",
    "validate_config",
]

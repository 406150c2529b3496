"""The node-type registry: built-in and third-party types come in through one door.

Types are found through the ``tessera.node_types`` entry-point group. Our own
types are declared in our ``pyproject.toml`` under that group too; because a
source checkout may run without its distribution metadata refreshed, the same
declarations are also listed in :data:`BUILTIN_ENTRY_POINTS` and loaded as
entry points first (Datasette's ``DEFAULT_PLUGINS`` does the same). A type
that does not fit the contract is refused with a :class:`PluginError` that
names it, instead of vanishing from the designer's palette.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from engine.errors import PluginError
from engine.flows.nodes.base import NodeType

ENTRY_POINT_GROUP = "tessera.node_types"

BUILTIN_ENTRY_POINTS = (
    "start = engine.flows.nodes.events:Start",
    "end = engine.flows.nodes.events:End",
    "approval = engine.flows.nodes.approval:Approval",
    "task = engine.flows.nodes.task:HumanTask",
    "exclusive = engine.flows.nodes.gateways:Exclusive",
    "parallel = engine.flows.nodes.gateways:Parallel",
    "inclusive = engine.flows.nodes.gateways:Inclusive",
    "action = engine.flows.nodes.action:Action",
    "create_record = engine.flows.nodes.create_record:CreateRecord",
    "update_related = engine.flows.nodes.update_related:UpdateRelated",
    "notify = engine.flows.nodes.notify:Notify",
    "webhook = engine.flows.nodes.notify:Webhook",
    "timer = engine.flows.nodes.timer:Timer",
    "subflow = engine.flows.nodes.subflow:SubFlow",
)

_HOOKS = ("validate", "enter", "signal", "cancel")
_registry: dict[tuple[str, int], NodeType] = {}
_loaded = False


def _problems(node_type: Any) -> list[str]:
    if not isinstance(node_type, NodeType):
        return ["is not a NodeType (subclass engine.flows.nodes.base.NodeType)"]
    problems = []
    if not node_type.name or not node_type.name.replace("_", "").isalnum():
        problems.append("needs a name made of letters, digits and underscores")
    if not isinstance(node_type.version, int) or node_type.version < 1:
        problems.append(f"has version {node_type.version!r}; use a whole number from 1")
    try:
        Draft202012Validator.check_schema(node_type.config_schema)
    except SchemaError as exc:
        problems.append(f"has a config_schema that is not a JSON Schema: {exc.message}")
    for hook in _HOOKS:
        if not callable(getattr(node_type, hook, None)):
            problems.append(f"has no {hook}() hook")
    low, high = node_type.inputs
    if high is not None and high < low:
        problems.append("has inputs with a maximum below the minimum")
    known = _registry.get((node_type.name, node_type.version))
    if known is not None and type(known) is not type(node_type):
        problems.append(f"is already registered by {type(known).__module__}.{type(known).__name__}")
    return problems


def register_node_type(node_type: NodeType | type[NodeType]) -> NodeType:
    """Add a node type (a class or an instance); raises PluginError naming it when it breaks the contract."""
    instance = node_type() if isinstance(node_type, type) else node_type
    problems = _problems(instance)
    if problems:
        name = getattr(instance, "name", None) or repr(instance)
        version = getattr(instance, "version", "?")
        raise PluginError(
            f"node type {name}@{version} " + "; ".join(problems),
            [{"field": f"{name}@{version}", "message": p} for p in problems],
        )
    _registry[(instance.name, instance.version)] = instance
    return instance


def _load(ep: EntryPoint) -> NodeType:
    from engine.plugins import load

    return register_node_type(load(ep, f"node type ({ep.value})"))


def load_entry_points() -> list[str]:
    """Register our declarations, then every installed package's; returns the refs loaded."""
    builtin = [
        EntryPoint(n.strip(), v.strip(), ENTRY_POINT_GROUP)
        for n, v in (line.split("=", 1) for line in BUILTIN_ENTRY_POINTS)
    ]
    loaded = [_load(ep).ref for ep in builtin]
    loaded += [_load(ep).ref for ep in entry_points(group=ENTRY_POINT_GROUP)]
    return loaded


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        load_entry_points()


def node_type(name: str, version: int = 1) -> NodeType | None:
    """The type ``name@version``, or None when no installed package provides it."""
    _ensure_loaded()
    return _registry.get((name, version))


def node_types() -> dict[str, NodeType]:
    """Every registered type by ``name@version`` (the designer's palette)."""
    _ensure_loaded()
    return {t.ref: t for t in sorted(_registry.values(), key=lambda t: (t.name, t.version))}


__all__ = [
    "BUILTIN_ENTRY_POINTS",
    "ENTRY_POINT_GROUP",
    "load_entry_points",
    "node_type",
    "node_types",
    "register_node_type",
]

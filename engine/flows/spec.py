"""A flow definition (YAML data) as a spec: typed nodes and edges on a networkx graph.

The spec describes every path a flow could take; the runtime records the one
an instance did take. Parsing is lenient: shapes the meta-schema already
refuses are skipped, and whatever else is wrong (an edge to an unknown node,
a type written badly) is returned as located entries for ``validate`` to
report with the rest, so an author sees every problem in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from engine.errors import error_entry
from engine.i18n import t
from engine.meta.located import did_you_mean
from engine.meta.repository import content_hash
from engine.meta.yamlpos import Marks, Path, dotted


@dataclass(frozen=True)
class NodeSpec:
    """One node: its id, its type name and version, and the config the type reads.

    ``type: approval`` means ``approval@1``: a published definition never
    changes meaning when a newer version of a type is installed.
    """

    id: str
    type: str
    version: int
    config: dict[str, Any]
    label: Any = None
    position: Any = None

    @property
    def type_ref(self) -> str:
        return f"{self.type}@{self.version}"


@dataclass(frozen=True)
class EdgeSpec:
    """One edge. ``when`` is a rule-language condition over the flow's record;
    ``default`` marks the edge an exclusive gateway takes when no condition holds;
    ``outcome`` picks the edge by a task's outcome (``approve``, ``reject``)."""

    index: int
    source: str
    target: str
    when: str | None = None
    default: bool = False
    outcome: str | None = None
    label: Any = None


@dataclass
class FlowSpec:
    """A parsed flow definition with its graph; ``hash`` identifies the published content."""

    name: str
    entity: str | None
    label: Any
    nodes: dict[str, NodeSpec]
    edges: list[EdgeSpec]
    graph: nx.DiGraph
    hash: str
    definition: dict[str, Any] = field(repr=False)
    marks: Marks | None = field(default=None, repr=False)
    file: str | None = None

    def outgoing(self, node: str) -> list[EdgeSpec]:
        """Edges leaving ``node`` in the order they were written (gateways test them so)."""
        # Indexed on first use: every step of every instance asks, the spec never changes.
        index = self.__dict__.get("_outgoing")
        if index is None:
            index = {}
            for e in self.edges:
                index.setdefault(e.source, []).append(e)
            self.__dict__["_outgoing"] = index
        return list(index.get(node, ()))

    def incoming(self, node: str) -> list[EdgeSpec]:
        return [e for e in self.edges if e.target == node]

    def starts(self) -> list[str]:
        return [n.id for n in self.nodes.values() if n.type == "start"]

    def entry(self, path: Path, message: str, **extra: Any) -> dict[str, Any]:
        """A located error entry at ``path`` of the definition (``("nodes", "x", "config")``)."""
        if self.marks is not None:
            entry = self.marks.entry(path, message, **extra)
            entry["file"] = self.file or entry.get("file")
            return entry
        return error_entry(message, file=self.file, field=dotted(path) or None, **extra)

    def node_entry(self, node: str, message: str, *sub: str | int) -> dict[str, Any]:
        """An entry about one node, its message starting with the node's name."""
        return self.entry(
            ("nodes", node, *sub),
            t("node {node!r}: {message}", node=node, message=message),
            node=node,
        )

    def edge_entry(self, edge: EdgeSpec, message: str, *sub: str) -> dict[str, Any]:
        text = t(
            "node {source!r}: edge to {target!r}: {message}",
            source=edge.source,
            target=edge.target,
            message=message,
        )
        return self.entry(("edges", edge.index, *sub), text, node=edge.source)


def trigger_events(definition: dict[str, Any]) -> tuple[str, ...]:
    """The record events a flow's trigger listens to: ``on: updated`` or ``on: [created, updated]``.

    One flow often has to start both when a record is made in a state that
    needs it and when a change brings it there (a quote whose discount needs
    approval); a list saves writing the flow twice.
    """
    trigger = definition.get("trigger")
    if not isinstance(trigger, dict):
        return ()
    on = trigger.get("on")
    if isinstance(on, str):
        return (on,)
    if isinstance(on, list):
        return tuple(e for e in on if isinstance(e, str))
    return ()


def parse_type(text: Any) -> tuple[str, int] | None:
    """``"approval"`` → ("approval", 1); ``"approval@2"`` → ("approval", 2); None if malformed."""
    if not isinstance(text, str) or not text:
        return None
    name, _, version = text.partition("@")
    if not name.replace("_", "").isalnum():
        return None
    if not version:
        return name, 1
    return (name, int(version)) if version.isdigit() else None


def _edge(index: int, raw: Any) -> EdgeSpec | None:
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, str) for x in raw):
        return EdgeSpec(index, raw[0], raw[1])
    if (
        isinstance(raw, dict)
        and isinstance(raw.get("from"), str)
        and isinstance(raw.get("to"), str)
    ):
        when = raw.get("when")
        return EdgeSpec(
            index,
            raw["from"],
            raw["to"],
            when=when if isinstance(when, str) and when.strip() else None,
            default=raw.get("default") is True,
            outcome=raw.get("outcome") if isinstance(raw.get("outcome"), str) else None,
            label=raw.get("label"),
        )
    return None


def parse_flow(
    definition: dict[str, Any], marks: Marks | None = None, file: str | None = None
) -> tuple[FlowSpec, list[dict[str, Any]]]:
    """The spec of one flow definition and the structural problems found on the way."""
    raw_nodes = definition.get("nodes") if isinstance(definition.get("nodes"), dict) else {}
    raw_edges = definition.get("edges") if isinstance(definition.get("edges"), list) else []
    spec = FlowSpec(
        name=str(definition.get("name", "")),
        entity=definition.get("entity"),
        label=definition.get("label"),
        nodes={},
        edges=[],
        graph=nx.DiGraph(),
        hash=content_hash(definition),
        definition=definition,
        marks=marks,
        file=file,
    )
    errors: list[dict[str, Any]] = []
    for node_id, raw in raw_nodes.items():
        raw = raw if isinstance(raw, dict) else {}
        parsed = parse_type(raw.get("type"))
        if parsed is None:
            errors.append(
                spec.node_entry(
                    node_id,
                    t("type {type!r} is not written name or name@version", type=raw.get("type")),
                    "type",
                )
            )
            continue
        config = raw.get("config") if isinstance(raw.get("config"), dict) else {}
        node = NodeSpec(
            node_id, parsed[0], parsed[1], config, raw.get("label"), raw.get("position")
        )
        spec.nodes[node_id] = node
        spec.graph.add_node(node_id, spec=node)
    for index, raw in enumerate(raw_edges):
        edge = _edge(index, raw)
        if edge is None:
            errors.append(
                spec.entry(("edges", index), t("an edge is [from, to] or {from: ..., to: ...}"))
            )
            continue
        missing = [n for n in (edge.source, edge.target) if n not in raw_nodes]
        for name in missing:
            errors.append(
                spec.entry(
                    ("edges", index),
                    t(
                        "edge {source} -> {target}: there is no node {name!r}",
                        source=edge.source,
                        target=edge.target,
                        name=name,
                    )
                    + did_you_mean(name, raw_nodes),
                    node=name,
                )
            )
        if missing or edge.source not in spec.nodes or edge.target not in spec.nodes:
            continue
        if spec.graph.has_edge(edge.source, edge.target):
            errors.append(
                spec.edge_entry(edge, t("the same two nodes are already joined by another edge"))
            )
            continue
        spec.edges.append(edge)
        spec.graph.add_edge(edge.source, edge.target, spec=edge)
    return spec, errors


__all__ = ["EdgeSpec", "FlowSpec", "NodeSpec", "parse_flow", "parse_type", "trigger_events"]

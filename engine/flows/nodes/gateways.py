"""Gateways: where paths split and meet.

- exclusive: the first outgoing edge (in the order written) whose ``when``
  holds, else the ``default`` edge; as a merge it passes every token through.
- parallel: as a split, one token down every outgoing edge; as a join, waits
  until a token has arrived by every incoming edge, then leaves with one.
- inclusive: as a split, every edge whose ``when`` holds (the default edge
  when none does); as a join, fires once no live token elsewhere can still
  reach an incoming edge that has not been used yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from engine.errors import FlowError
from engine.flows.nodes.base import NodeContext, NodeType, Step, proceed, wait
from engine.i18n import t

_NO_CONFIG = {"type": "object", "additionalProperties": False, "properties": {}}


def choose_edges(
    edges: Iterable[Any], evaluate: Callable[[str], Any], node_id: str, first_only: bool
) -> list:
    """The edges a gateway takes: those whose condition holds (the first only, for an
    exclusive gateway), else its default edge; FlowError naming ``node_id`` if none."""
    chosen, default = [], None
    for edge in edges:
        if edge.default:
            default = edge
        elif edge.when is None or evaluate(edge.when) is True:
            chosen.append(edge)
            if first_only:
                break
    if not chosen and default is not None:
        chosen = [default]
    if not chosen:
        raise FlowError(
            t(
                "node {node}: no outgoing condition holds and there is no default edge",
                node=repr(node_id),
            )
        )
    return chosen


def _matching(ctx: NodeContext, first_only: bool) -> list:
    return choose_edges(ctx.spec.outgoing(ctx.node.id), ctx.evaluate, ctx.node.id, first_only)


class Exclusive(NodeType):
    name = "exclusive"
    label = {"en": "Exclusive gateway", "zh-CN": "排他网关"}
    outputs = (1, None)
    conditional = True
    gateway = "exclusive"
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            # The author states the conditions cover every case, so no default edge is needed.
            "exhaustive": {"type": "boolean"},
        },
    }

    def enter(self, ctx: NodeContext) -> Step:
        return proceed(*_matching(ctx, first_only=True))


def _arrivals(ctx: NodeContext) -> dict[int, int]:
    """Incoming edge index → a token that arrived by it (this one included)."""
    arrived: dict[int, int] = {}
    for token in [ctx.token, *ctx.waiting_here()]:
        if token.get("via") is not None:
            arrived.setdefault(token["via"], token["id"])
    return arrived


class Parallel(NodeType):
    name = "parallel"
    label = {"en": "Parallel gateway", "zh-CN": "并行网关"}
    outputs = (1, None)
    gateway = "parallel"
    config_schema = _NO_CONFIG

    def enter(self, ctx: NodeContext) -> Step:
        incoming = ctx.spec.incoming(ctx.node.id)
        if len(incoming) > 1:
            arrived = _arrivals(ctx)
            if any(e.index not in arrived for e in incoming):
                return wait()
            merged = tuple(t for t in arrived.values() if t != ctx.token["id"])
            return proceed(*ctx.spec.outgoing(ctx.node.id), merged=merged)
        return proceed(*ctx.spec.outgoing(ctx.node.id))


class Inclusive(NodeType):
    name = "inclusive"
    label = {"en": "Inclusive gateway", "zh-CN": "包容网关"}
    outputs = (1, None)
    conditional = True
    gateway = "inclusive"
    config_schema = _NO_CONFIG

    def enter(self, ctx: NodeContext) -> Step:
        incoming = ctx.spec.incoming(ctx.node.id)
        merged: tuple[int, ...] = ()
        if len(incoming) > 1:
            arrived = _arrivals(ctx)
            unused = [e for e in incoming if e.index not in arrived]
            if unused and self._still_coming(ctx, unused):
                return wait()
            merged = tuple(token["id"] for token in ctx.waiting_here())
        return proceed(*_matching(ctx, first_only=False), merged=merged)

    def _still_coming(self, ctx: NodeContext, unused: list) -> bool:
        """Whether a live token elsewhere can reach an unused incoming edge without passing here."""
        import networkx as nx

        here = ctx.node.id
        graph = nx.restricted_view(ctx.spec.graph, [here], [])
        waiting = {token["id"] for token in ctx.waiting_here()} | {ctx.token["id"]}
        for token in ctx.live_tokens():
            if token["id"] in waiting or token["node"] == here:
                continue
            for edge in unused:
                if nx.has_path(graph, token["node"], edge.source):
                    return True
        return False

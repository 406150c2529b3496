"""A layered drawing of a flow's graph: where each node and edge goes, left to right.

Layers are longest paths from the start over the graph with its loop-closing
edges set aside (those are drawn as arcs back), so every ordinary edge points
right. Within a layer nodes keep the order of their predecessors (one
barycentre pass), which keeps a two-way split from crossing itself. No
external layout tool: networkx gives the graph algorithms, the rest is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from engine.flows.spec import FlowSpec

NODE_W, NODE_H = 132, 44
GAP_X, GAP_Y = 56, 28
MARGIN = 24
#: Types drawn as diamonds (the designer draws them 64 x 64).
GATEWAYS = ("exclusive", "parallel", "inclusive")


@dataclass
class Layout:
    width: int
    height: int
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {x, y, w, h}
    edges: list[dict[str, Any]] = field(default_factory=list)  # {source, target, path, back}


def _back_edges(graph: nx.DiGraph, start: str | None) -> set[tuple[str, str]]:
    dag = nx.DiGraph(graph)
    back: set[tuple[str, str]] = set()
    while True:
        try:
            cycle = nx.find_cycle(dag, source=start)
        except nx.NetworkXNoCycle:
            return back
        u, v = cycle[-1][0], cycle[-1][1]
        back.add((u, v))
        dag.remove_edge(u, v)


def layout(spec: FlowSpec) -> Layout:
    """Positions for every node and a path for every edge of ``spec``."""
    graph = nx.DiGraph()
    graph.add_nodes_from(spec.nodes)
    graph.add_edges_from((e.source, e.target) for e in spec.edges)
    starts = spec.starts()
    start = starts[0] if starts else None
    back = _back_edges(graph, start)
    dag = nx.DiGraph(graph)
    dag.remove_edges_from(back)
    layer: dict[str, int] = {}
    for node in nx.topological_sort(dag):
        preds = list(dag.predecessors(node))
        layer[node] = max((layer[p] + 1 for p in preds), default=0)
    columns: dict[int, list[str]] = {}
    written = list(spec.nodes)
    for node in written:
        columns.setdefault(layer[node], []).append(node)
    rank: dict[str, float] = {}
    for col in sorted(columns):
        nodes = columns[col]
        if col:

            def centre(n: str) -> float:
                ps = [rank[p] for p in dag.predecessors(n) if p in rank]
                return sum(ps) / len(ps) if ps else float(written.index(n))

            nodes.sort(key=lambda n: (centre(n), written.index(n)))
        for i, n in enumerate(nodes):
            rank[n] = i - (len(nodes) - 1) / 2
    tallest = max((len(v) for v in columns.values()), default=1)
    height = MARGIN * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y
    mid = height / 2
    out = Layout(width=0, height=0)
    for node, col in layer.items():
        x = MARGIN + col * (NODE_W + GAP_X)
        y = mid + rank[node] * (NODE_H + GAP_Y) - NODE_H / 2
        out.nodes[node] = {"x": round(x), "y": round(y), "w": NODE_W, "h": NODE_H}
    out.width = MARGIN * 2 + (max(layer.values(), default=0) + 1) * (NODE_W + GAP_X) - GAP_X
    bottom = height
    for edge in spec.edges:
        a, b = out.nodes[edge.source], out.nodes[edge.target]
        is_back = (edge.source, edge.target) in back or layer[edge.target] <= layer[edge.source]
        drawn, below = _route(edge, a, b, is_back)
        out.edges.append(drawn)
        bottom = max(bottom, below)
    out.height = round(bottom)
    return out


def _route(edge: Any, a: dict[str, Any], b: dict[str, Any], back: bool) -> tuple[dict, float]:
    """One edge between boxes ``a`` and ``b``: its path and label place, and how far down
    the drawing must reach for it. A forward edge runs from ``a``'s right side to ``b``'s
    left; a back edge (a loop) dips below both boxes."""
    if back:
        x1, y1 = a["x"] + a["w"] / 2, a["y"] + a["h"]
        x2, y2 = b["x"] + b["w"] / 2, b["y"] + b["h"]
        low = max(y1, y2) + GAP_Y + 8
        path = f"M{x1:.0f},{y1:.0f} C{x1:.0f},{low:.0f} {x2:.0f},{low:.0f} {x2:.0f},{y2 + 2:.0f}"
        lx, ly, below = (x1 + x2) / 2, low - 6, low + 12
    else:
        x1, y1 = a["x"] + a["w"], a["y"] + a["h"] / 2
        x2, y2 = b["x"], b["y"] + b["h"] / 2
        bend = (x2 - x1) / 2
        path = (
            f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} "
            f"{x2 - bend:.0f},{y2:.0f} {x2 - 2:.0f},{y2:.0f}"
        )
        lx, ly, below = (x1 + x2) / 2, (y1 + y2) / 2 - 6, 0.0
    drawn = {
        "index": edge.index,
        "source": edge.source,
        "target": edge.target,
        "path": path,
        "back": back,
        "outcome": edge.outcome,
        "default": edge.default,
        "when": edge.when,
        "label": edge.label,
        "lx": round(lx),
        "ly": round(ly),
    }
    return drawn, below


def positioned(spec: FlowSpec) -> Layout | None:
    """The drawing the flow designer saved (every node's ``position``), or None without one.

    The instance page draws what the author drew; positions are the top-left
    corners the designer stored, moved so the drawing starts at the margin.
    A flow written by hand (no positions) is laid out by :func:`layout`.
    """
    if not spec.nodes or any(
        not isinstance(n.position, dict)
        or not all(isinstance(n.position.get(k), (int, float)) for k in ("x", "y"))
        for n in spec.nodes.values()
    ):
        return None
    left = min(n.position["x"] for n in spec.nodes.values())
    top = min(n.position["y"] for n in spec.nodes.values())
    out = Layout(width=0, height=0)
    for node in spec.nodes.values():
        x = node.position["x"] - left + MARGIN
        y = node.position["y"] - top + MARGIN
        if node.type in GATEWAYS:  # the designer's 64 x 64 diamond, drawn 52 x 52 here
            out.nodes[node.id] = {"x": round(x + 6), "y": round(y + 6), "w": 52, "h": 52}
        else:
            out.nodes[node.id] = {"x": round(x), "y": round(y), "w": 140, "h": NODE_H}
    right = max(b["x"] + b["w"] for b in out.nodes.values())
    bottom = max(b["y"] + b["h"] for b in out.nodes.values()) + 16  # a gateway's caption
    for edge in spec.edges:
        a, b = out.nodes[edge.source], out.nodes[edge.target]
        drawn, below = _route(edge, a, b, back=b["x"] <= a["x"] + a["w"])
        out.edges.append(drawn)
        bottom = max(bottom, below)
    out.width = round(right + MARGIN)
    out.height = round(bottom + MARGIN)
    return out


__all__ = ["Layout", "layout", "positioned"]

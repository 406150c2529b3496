"""Parallel blocks: every parallel split pairs with one parallel join, and nothing leaks.

A parallel join waits for a token on every incoming edge, so it deadlocks
when a branch can skip it, take two of its edges, or never split off in the
first place. The rules, for a split S whose branches first meet at J (S's
immediate post-dominator):

- J is a parallel join, and J's immediate dominator is S (they pair up);
- each branch of S reaches J by exactly one of J's incoming edges (an
  exclusive choice inside a branch must merge again before the join);
- branches do not share nodes, every node of a branch can still reach J
  (no branch ends or wanders off on its own), and no branch loops back
  into S.

And a parallel join whose branches part anywhere but a parallel split (an
exclusive choice) would wait forever for the branch not taken.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from engine.flows.nodes.base import NodeType
from engine.flows.spec import FlowSpec

_SINK = "\x00exit"


def _branch_problems(spec: FlowSpec, split: str, join: str) -> list[str]:
    g = spec.graph
    inner = nx.restricted_view(g, [split, join], [])
    to_join = {e.source for e in spec.incoming(join)}
    regions: list[tuple[str, set[str]]] = []
    problems = []
    for edge in spec.outgoing(split):
        if edge.target == join:
            regions.append((join, set()))
            continue
        region = nx.descendants(inner, edge.target) | {edge.target}
        entries = [e for e in spec.incoming(join) if e.source in region]
        if len(entries) != 1:
            problems.append(
                f"the branch through {edge.target!r} reaches join {join!r} by {len(entries)} "
                "edges; a choice inside a parallel branch must merge before the join"
            )
        reaching = set(to_join & region)
        for source in to_join & region:
            reaching |= nx.ancestors(inner, source)
        for node in sorted(region, key=list(spec.nodes).index):
            if node not in reaching:
                problems.append(
                    f"the branch through {edge.target!r} can reach {node!r} and never get to "
                    f"join {join!r}"
                )
                break
        if any(g.has_edge(n, split) for n in region):
            problems.append(f"the branch through {edge.target!r} loops back into this split")
        regions.append((edge.target, region))
    for i, (a, first) in enumerate(regions):
        for b, second in regions[i + 1 :]:
            shared = first & second
            if shared:
                node = min(shared, key=list(spec.nodes).index)
                problems.append(
                    f"the branches through {a!r} and {b!r} meet at {node!r} before join {join!r}"
                )
    return problems


def balance_errors(spec: FlowSpec, types: dict[str, NodeType]) -> list[dict[str, Any]]:
    """Entries for every parallel split or join that breaks a rule of the module docstring."""
    g = spec.graph
    starts = spec.starts()
    ends = [n for n, t in types.items() if t.outputs == (0, 0)]
    if len(starts) != 1 or not ends:
        return []

    def is_parallel(node: str) -> bool:
        return node in types and types[node].gateway == "parallel"

    reverse = g.reverse(copy=True)
    reverse.add_edges_from((_SINK, e) for e in ends)
    post = nx.immediate_dominators(reverse, _SINK)
    pre = nx.immediate_dominators(g, starts[0])
    out = []
    for node_id in spec.nodes:
        if not is_parallel(node_id):
            continue
        if g.out_degree(node_id) > 1 and node_id in post:
            meet = post[node_id]
            if meet == _SINK:
                problems = ["the branches of this parallel split never meet again; join them "
                            "with a parallel gateway before they end"]  # fmt: skip
            elif not (is_parallel(meet) and g.in_degree(meet) > 1):
                problems = [f"the branches of this parallel split first meet at {meet!r}, which "
                            "is not a parallel join; join them with a parallel gateway"]  # fmt: skip
            else:
                problems = _branch_problems(spec, node_id, meet)
            out += [spec.node_entry(node_id, p) for p in problems]
        if g.in_degree(node_id) > 1 and node_id in pre:
            part = pre[node_id]
            paired = is_parallel(part) and g.out_degree(part) > 1 and post.get(part) == node_id
            if not paired:
                out.append(
                    spec.node_entry(
                        node_id,
                        f"this parallel join's branches part at {part!r}, which is not its "
                        "parallel split, so it could wait forever for a branch not taken",
                    )
                )
    return out


__all__ = ["balance_errors"]

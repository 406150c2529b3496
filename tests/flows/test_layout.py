"""The progress diagram's layout: layers left to right, loops drawn back, nothing overlaps."""

from __future__ import annotations

from engine.flows.layout import layout
from engine.flows.spec import parse_flow
from tests.flows.defs import APPROVAL, PARALLEL


def test_layers_follow_the_graph():
    spec = parse_flow(APPROVAL)[0]
    drawn = layout(spec)
    x = {n: box["x"] for n, box in drawn.nodes.items()}
    assert x["start"] < x["manager"] < x["check"] < x["director"] < x["approved"] < x["end"]
    assert set(drawn.nodes) == set(spec.nodes)
    assert len(drawn.edges) == len(spec.edges)
    assert not any(e["back"] for e in drawn.edges)
    boxes = list(drawn.nodes.values())
    for i, a in enumerate(boxes):
        assert a["x"] + a["w"] <= drawn.width and a["y"] + a["h"] <= drawn.height
        for b in boxes[i + 1 :]:
            apart = (a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
                     or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"])  # fmt: skip
            assert apart, (a, b)


def test_parallel_branches_share_a_layer():
    drawn = layout(parse_flow(PARALLEL)[0])
    xs = sorted({box["x"] for box in drawn.nodes.values()})
    assert len(xs) < len(drawn.nodes)  # some nodes side by side


def test_a_loop_is_drawn_back():
    looped = {
        "name": "loop",
        "label": "Loop",
        "nodes": {
            "start": {"type": "start"},
            "work": {"type": "task", "config": {"assignee": {"user": "bob"}}},
            "check": {"type": "exclusive"},
            "end": {"type": "end"},
        },
        "edges": [
            ["start", "work"],
            ["work", "check"],
            {"from": "check", "to": "work", "when": "true"},
            {"from": "check", "to": "end", "default": True},
        ],
    }
    drawn = layout(parse_flow(looped)[0])
    back = [e for e in drawn.edges if e["back"]]
    assert [(e["source"], e["target"]) for e in back] == [("check", "work")]
    assert drawn.nodes["work"]["x"] < drawn.nodes["check"]["x"] < drawn.nodes["end"]["x"]

"""The worked example of docs/developer/node-types.md: a node-type plugin through the real registry.

The plugin is installed the way a package is: a distribution's metadata on
``sys.path`` declaring an entry point in the ``tessera.node_types`` group.
"""

from __future__ import annotations

import importlib
import sys

import pytest

from engine import BundleError, PluginError
from engine.flows.nodes.base import NodeType
from engine.flows.registry import load_entry_points, node_types, register_node_type
from tests.floor_defs import save
from tests.flows.defs import DEAL

COUNTER = {
    "name": "count_reviews",
    "label": "Count reviews",
    "entity": "deal",
    "nodes": {
        "start": {"type": "start"},
        "count": {"type": "tally@1", "config": {"field": "amount", "by": 2}},
        "end": {"type": "end"},
    },
    "edges": [["start", "count"], ["count", "end"]],
}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fake installed distribution whose entry point names tests.plugins.tally_node:Tally."""
    site = tmp_path_factory.mktemp("site")
    info = site / "tessera_tally-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tessera-tally\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[tessera.node_types]\ntally = tests.plugins.tally_node:Tally\n"
    )
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        yield load_entry_points()
    finally:
        sys.path.remove(str(site))
        importlib.invalidate_caches()


def test_the_entry_point_registers_the_type(installed):
    assert "tally@1" in installed
    assert node_types()["tally@1"].label["zh-CN"] == "计数"
    # The built-in types come through the same door.
    assert {"start@1", "approval@1", "parallel@1", "timer@1"} <= set(installed)


def test_a_flow_uses_the_plugin(installed, platform):
    save(platform, DEAL)
    platform.flows.publish(COUNTER)
    deal = platform.records("deal").create({"title": "Counted", "amount": 3})
    inst = platform.flows.start("count_reviews", record=("deal", deal["id"]))
    assert inst["status"] == "completed"
    assert platform.records("deal").get(deal["id"])["amount"] == 5


def test_the_plugin_validates_its_config(installed, platform):
    save(platform, DEAL)
    bad = {
        **COUNTER,
        "nodes": {**COUNTER["nodes"], "count": {"type": "tally", "config": {"field": "amonut"}}},
    }
    with pytest.raises(BundleError) as info:
        platform.flows.publish(bad)
    assert "node 'count'" in str(info.value) and "'amonut' is not a field" in str(info.value)
    bad["nodes"]["count"]["config"] = {"field": "amount", "by": "two"}
    with pytest.raises(BundleError) as info:
        platform.flows.publish(bad)
    assert "nodes.count.config.by" in [e["field"] for e in info.value.errors]


def test_a_type_that_breaks_the_contract_is_refused():
    class Nameless(NodeType):
        config_schema = {"type": "object", "properties": {"x": {"type": "nonsense"}}}

    with pytest.raises(PluginError) as info:
        register_node_type(Nameless)
    assert "needs a name" in str(info.value) and "config_schema" in str(info.value)

    class Impostor(NodeType):
        name = "approval"

    with pytest.raises(PluginError) as info:
        register_node_type(Impostor)
    assert "already registered by engine.flows.nodes.approval.Approval" in str(info.value)

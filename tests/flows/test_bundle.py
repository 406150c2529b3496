"""Flows in bundles: ``tessera check`` and install validate them with file, line and column."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from engine import BundleError
from engine.cli import main
from tests.flows.defs import APPROVAL, DEAL

MANIFEST = 'name: deals\nversion: "1.0.0"\nlabel: Deals\ndepends: []\n'


def write_bundle(root: Path, flow: dict) -> Path:
    (root / "entities").mkdir(parents=True)
    (root / "flows").mkdir()
    (root / "bundle.yaml").write_text(MANIFEST, encoding="utf-8")
    dump = {"allow_unicode": True, "sort_keys": False}
    (root / "entities" / "deal.yaml").write_text(yaml.safe_dump(DEAL, **dump), encoding="utf-8")
    (root / "flows" / f"{flow['name']}.yaml").write_text(
        yaml.safe_dump(flow, **dump), encoding="utf-8"
    )
    return root


def line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(text)


def test_install_publishes_the_flow_and_it_runs(platform, tmp_path):
    platform.install(write_bundle(tmp_path / "b", APPROVAL))
    got = platform.meta.get("flow", "deal_approval")
    assert got["version"] == 1 and got["definition"]["nodes"]["start"] == {"type": "start"}
    deal = platform.records("deal").create({"title": "A", "amount": 10})
    started = platform.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")
    assert started["status"] == "running"


def test_check_locates_a_bad_node_in_the_file(platform, tmp_path):
    bad = copy.deepcopy(APPROVAL)
    bad["nodes"]["manager"]["type"] = "aproval"
    root = write_bundle(tmp_path / "b", bad)
    with pytest.raises(BundleError) as info:
        platform.check(root)
    (entry,) = [e for e in info.value.errors if e.get("node") == "manager"]
    assert entry["file"] == "flows/deal_approval.yaml"
    assert entry["line"] == line_of(root / entry["file"], "type: aproval")
    assert entry["column"] > 1
    assert "flows/deal_approval.yaml:" in str(info.value) and "^" in str(info.value)


def test_config_errors_point_inside_the_config(platform, tmp_path):
    bad = copy.deepcopy(APPROVAL)
    bad["nodes"]["manager"]["config"]["mode"] = "some"
    root = write_bundle(tmp_path / "b", bad)
    with pytest.raises(BundleError) as info:
        platform.install(root)
    (entry,) = [e for e in info.value.errors if e.get("node") == "manager"]
    assert entry["line"] == line_of(root / "flows/deal_approval.yaml", "mode: some")
    assert entry["field"] == "nodes.manager.config.mode"
    with platform.db.transaction(write=False) as conn:
        assert platform.repo.current(conn, "flow", "deal_approval") is None


def test_the_metaschema_refuses_a_malformed_edge(platform, tmp_path):
    bad = copy.deepcopy(APPROVAL)
    bad["edges"].append({"from": "check", "too": "end"})
    with pytest.raises(BundleError) as info:
        platform.check(write_bundle(tmp_path / "b", bad))
    assert any("an edge is" in e["message"] or "too" in e["message"] for e in info.value.errors)


def test_tessera_check_prints_the_located_error(tmp_path):
    bad = copy.deepcopy(APPROVAL)
    bad["edges"][3]["when"] = "amout > 500000"
    root = write_bundle(tmp_path / "b", bad)
    result = CliRunner().invoke(main, ["check", str(root)])
    assert result.exit_code != 0
    assert "flows/deal_approval.yaml:" in result.output
    assert "node 'check'" in result.output and "amount" in result.output


def test_an_exported_flow_reads_back_and_checks(platform, tmp_path):
    platform.install(write_bundle(tmp_path / "b", APPROVAL))
    platform.export_bundle(tmp_path / "out")
    (exported,) = (tmp_path / "out").rglob("flows/deal_approval.yaml")
    assert yaml.safe_load(exported.read_text(encoding="utf-8")) == APPROVAL
    platform.check(exported.parent.parent)

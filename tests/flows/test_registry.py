"""The registry and its documentation stay in step with what ships."""

from __future__ import annotations

import tomllib
from pathlib import Path

from engine.flows.registry import BUILTIN_ENTRY_POINTS, ENTRY_POINT_GROUP, node_types

ROOT = Path(__file__).resolve().parents[2]


def test_builtin_list_matches_the_pyproject_declarations():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    ours = {k: v for k, v in declared[ENTRY_POINT_GROUP].items()}
    listed = dict(line.replace(" ", "").split("=", 1) for line in BUILTIN_ENTRY_POINTS)
    assert listed == ours


def test_every_node_type_is_documented():
    docs = (ROOT / "docs" / "user" / "flows.md").read_text(encoding="utf-8")
    for ref, t in node_types().items():
        if t.__module__.startswith("engine."):
            assert f"`{t.name}`" in docs, f"{ref} is missing from docs/user/flows.md"


def test_every_type_has_labels_in_both_languages():
    for ref, t in node_types().items():
        if t.__module__.startswith("engine."):
            assert set(t.label) >= {"en", "zh-CN"}, ref

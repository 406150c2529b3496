"""Apps built in the browser: a new app saved as metadata exports as a bundle of its own."""

from __future__ import annotations

import copy

import pytest

from engine import Platform
from engine.errors import BundleError

APP = {
    "version": "0.1.0",
    "label": {"en": "Field service", "zh-CN": "外勤服务"},
    "icon": "map",
    "roles": [],
    "menus": [
        {
            "label": {"en": "Field service", "zh-CN": "外勤服务"},
            "icon": "map",
            "roles": ["admin"],
            "items": [
                {"label": {"en": "Site visits", "zh-CN": "现场拜访"}, "entity": "site_visit"}
            ],
        }
    ],
}
VISIT = {
    "label": {"en": "Site visit", "zh-CN": "现场拜访"},
    "schema": {
        "type": "object",
        "properties": {
            "subject": {"type": "string", "maxLength": 120},
            "outcome": {
                "type": "string",
                "enum": ["good", "bad"],
                "x-options-colors": {"good": "#2e7d32", "bad": "#c62828"},
            },
        },
    },
    "layout": [{"section": {"en": "Visit"}, "fields": ["subject", "outcome"]}],
}


def test_a_new_app_exports_byte_stable_and_installs_elsewhere(platform, tmp_path):
    assert platform.meta.save("app", "field_service", APP) == 1
    platform.meta.save("entity", "site_visit", VISIT)
    platform.meta.save("entity", "unrelated", {"schema": {"type": "object", "properties": {}}})
    first = platform.export_bundle(tmp_path / "one", bundle="field_service")
    second = platform.export_bundle(tmp_path / "two", bundle="field_service")
    one = {p.relative_to(tmp_path / "one"): p.read_bytes() for p in first}
    two = {p.relative_to(tmp_path / "two"): p.read_bytes() for p in second}
    assert one == two
    assert sorted(map(str, one)) == ["bundle.yaml", "entities/site_visit.yaml"]
    other = Platform(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        other.install(tmp_path / "one")
        assert other.meta.get("app", "field_service")["definition"]["label"]["zh-CN"] == "外勤服务"
        assert other.entities.names() == ["site_visit"]
        other.records("site_visit").create({"subject": "Plant tour", "outcome": "good"})
    finally:
        other.close()


def test_option_colours_must_be_hex(platform):
    bad = {**VISIT, "schema": {"type": "object", "properties": {"o": {
        "type": "string", "enum": ["a"], "x-options-colors": {"a": "red"}}}}}  # fmt: skip
    with pytest.raises(BundleError):
        platform.meta.save("entity", "site_visit", bad)


def test_conditions_and_computed_expressions_are_type_checked_at_their_field(platform):
    bad = copy.deepcopy(VISIT)
    bad["schema"]["properties"]["subject"]["x-visible-when"] = "outcome = 'good'"
    with pytest.raises(BundleError) as caught:
        platform.meta.save("entity", "site_visit", bad)
    (entry,) = caught.value.errors
    assert entry["field"] == "schema.properties.subject.x-visible-when"
    good = copy.deepcopy(VISIT)
    good["schema"]["properties"]["subject"]["x-visible-when"] = "outcome == 'good'"
    good["schema"]["properties"]["shout"] = {"type": "string", "x-computed": "upper(subject)"}
    platform.meta.save("entity", "site_visit", good)  # new fields are known to the check

"""The bundle reader: every bad bundle is refused with the right file, line, column and words."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import BundleError, PluginError
from engine.forms.entity import MAX_FIELDS
from engine.meta.checks import check_bundle, check_entities, check_manifest
from engine.meta.kinds import FileKind, kind_for, kinds, register_kind
from engine.meta.located import schema_errors
from engine.meta.reader import metaschema, read_bundle
from engine.meta.yamlpos import load_yaml

HERE = Path(__file__).parent
BAD = HERE / "bad_bundles"
MINIMAL = HERE / "bundles" / "minimal"
CASES = sorted(p.name for p in BAD.iterdir() if (p / "expected.yaml").is_file())


def _copy_case(case: str, tmp_path: Path) -> Path:
    """The case's bundle without its expected.yaml (which is not a bundle file)."""
    target = tmp_path / case
    shutil.copytree(BAD / case, target, ignore=shutil.ignore_patterns("expected.yaml"))
    return target


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES)
def test_bad_bundle_is_refused_at_the_right_place(case: str, tmp_path: Path) -> None:
    expected = yaml.safe_load((BAD / case / "expected.yaml").read_text(encoding="utf-8"))
    with pytest.raises(BundleError) as info:
        check_bundle(_copy_case(case, tmp_path))
    hits = [
        e
        for e in info.value.errors
        if e["file"] == expected["file"]
        and e["line"] == expected["line"]
        and e["column"] == expected["column"]
        and expected["message"] in e["message"]
    ]
    listing = "\n".join(
        f"{e['file']}:{e['line']}:{e['column']}: {e['message']}" for e in info.value.errors
    )
    assert hits, f"expected {expected} among:\n{listing}"
    # str() renders file:line:col and, when a line is known, a caret excerpt.
    rendered = str(info.value)
    assert expected["file"] in rendered
    if expected["line"] is not None:
        assert f"{expected['file']}:{expected['line']}:{expected['column']}" in rendered
        assert "^" in rendered


def test_minimal_bundle_reads_and_checks_clean() -> None:
    source = check_bundle(MINIMAL)
    assert source.name == "minimal"
    assert [f.name for f in source.items("entity")] == ["account", "contact"]
    contact = next(f for f in source.items("entity") if f.name == "contact")
    assert contact.data["schema"]["properties"]["code"]["x-pattern"] == "CON-{YYYY}-{#####}"
    assert contact.data["label"] == {"en": "Contact", "zh-CN": "联系人"}
    assert set(source.sources) == {"bundle.yaml", "entities/account.yaml", "entities/contact.yaml"}
    assert check_entities(source, {}) == []
    assert check_manifest(source, set()) == []


def test_reference_to_an_installed_entity_is_accepted(tmp_path: Path) -> None:
    bundle = _copy_case("xref_missing", tmp_path)
    source = read_bundle(bundle)
    assert check_entities(source, {"acount": {"name": "acount"}}) == []


def test_every_error_of_every_file_is_collected(tmp_path: Path) -> None:
    bundle = tmp_path / "many"
    (bundle / "entities").mkdir(parents=True)
    (bundle / "bundle.yaml").write_text('name: many\nversion: "1"\nauthr: me\n')
    (bundle / "entities" / "a.yaml").write_text(
        "name: a\nschema:\n  type: object\n  properties:\n    x: {type: strin}\n"
    )
    (bundle / "entities" / "b.yaml").write_text("name: b\nschema: [1\n")
    (bundle / "flowz").mkdir()
    (bundle / "flowz" / "f.yaml").write_text("name: f\n")
    with pytest.raises(BundleError) as info:
        read_bundle(bundle)
    files = {e["file"] for e in info.value.errors}
    assert files == {"bundle.yaml", "entities/a.yaml", "entities/b.yaml", "flowz/f.yaml"}
    assert "4 problems" in info.value.message


def test_too_many_fields(tmp_path: Path) -> None:
    bundle = tmp_path / "wide"
    (bundle / "entities").mkdir(parents=True)
    (bundle / "bundle.yaml").write_text('name: wide\nversion: "1.0.0"\n')
    lines = ["name: wide", "schema:", "  type: object", "  properties:"]
    lines += [f"    f{i}: {{type: string}}" for i in range(MAX_FIELDS + 1)]
    (bundle / "entities" / "wide.yaml").write_text("\n".join(lines) + "\n")
    with pytest.raises(BundleError) as info:
        check_bundle(bundle)
    [entry] = info.value.errors
    assert (entry["file"], entry["line"], entry["column"]) == ("entities/wide.yaml", 4, 3)
    assert f"at most {MAX_FIELDS}" in entry["message"]


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="not a bundle folder"):
        read_bundle(tmp_path / "nowhere")


def test_readme_and_hidden_files_are_ignored(tmp_path: Path) -> None:
    shutil.copytree(MINIMAL, tmp_path / "b")
    (tmp_path / "b" / "README.md").write_text("# hello\n")
    (tmp_path / "b" / ".git").mkdir()
    (tmp_path / "b" / ".git" / "HEAD").write_text("ref\n")
    assert len(read_bundle(tmp_path / "b").files) == 2


def test_seed_files_are_read_as_yaml_or_csv(tmp_path: Path) -> None:
    shutil.copytree(MINIMAL, tmp_path / "b")
    seed = tmp_path / "b" / "seed"
    seed.mkdir()
    (seed / "account.csv").write_text(
        'name,industry\nACME,retail\n"Multi\nLine",software\nZed,retail\n'
    )
    (seed / "contact.yaml").write_text("- {full_name: Ann, account: 1}\n")
    source = read_bundle(tmp_path / "b")
    by_name = {f.name: f for f in source.items("seed")}
    assert by_name["account"].data[1] == {"name": "Multi\nLine", "industry": "software"}
    assert by_name["account"].marks.locate((2,)) == (5, 1)
    assert by_name["contact"].data == [{"full_name": "Ann", "account": 1}]


# --- yamlpos -------------------------------------------------------------------------


def test_yaml_keeps_yaml11_words_and_dates_as_strings() -> None:
    data, _ = load_yaml(
        "trigger: {on: updated}\na: yes\nb: off\nc: 2026-01-05\nd: 12:30\ne: 017\nf: true\n",
        "f.yaml",
    )
    assert data == {
        "trigger": {"on": "updated"},
        "a": "yes",
        "b": "off",
        "c": "2026-01-05",
        "d": "12:30",
        "e": "017",
        "f": True,
    }


def test_yaml_marks_locate_values_keys_and_ancestors() -> None:
    text = "name: lead\nschema:\n  properties:\n    company: {type: string}\nlist: [a, b]\n"
    _, marks = load_yaml(text, "f.yaml")
    assert marks.locate(("name",)) == (1, 7)
    assert marks.locate_key(("schema", "properties", "company")) == (4, 5)
    assert marks.locate(("schema", "properties", "company", "type")) == (4, 21)
    assert marks.locate(("schema", "properties", "company", "maxLength")) == (4, 14)
    assert marks.locate(("list", 1)) == (5, 11)
    assert marks.locate(("nothing", "here")) == (1, 1)


def test_yaml_reports_every_duplicate_key() -> None:
    with pytest.raises(BundleError) as info:
        load_yaml("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n", "f.yaml")
    assert [(e["line"], e["column"]) for e in info.value.errors] == [(4, 3), (5, 1)]
    assert "first defined on line 1" in info.value.errors[1]["message"]


def test_yaml_merge_keys_may_be_overridden() -> None:
    data, _ = load_yaml("base: &b {x: 1, y: 2}\nthis:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert data["this"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("a: [1\nb: 2\n", (2, 2), "invalid YAML"),
        ("a:\n\t- b\n", (2, 1), "spaces, not tabs"),
        ("x: !!timestamp 2020-01-01\n", (1, 4), "not allowed"),
        ("a: 1\n---\nb: 2\n", (2, 1), "single document"),
    ],
)
def test_yaml_problems_are_located(text: str, where: tuple[int, int], words: str) -> None:
    with pytest.raises(BundleError) as info:
        load_yaml(text, "f.yaml")
    [entry] = info.value.errors
    assert (entry["line"], entry["column"]) == where
    assert words in entry["message"]


# --- meta-schemas ---------------------------------------------------------------------


def test_schema_errors_speak_plainly() -> None:
    text = (
        "name: lead\nschema:\n  type: object\n  properties:\n    a: {type: string, minLength: x}\n"
    )
    data, marks = load_yaml(text, "entities/lead.yaml")
    [entry] = schema_errors(data, marks, metaschema("entity.json"), "entities/lead.yaml")
    assert entry["message"] == "expected an integer, got the string 'x'"
    assert entry["field"] == "schema.properties.a.minLength"
    assert (entry["line"], entry["column"]) == (5, 34)


def test_field_type_options_are_accepted_by_the_entity_metaschema() -> None:
    props = metaschema("entity.json")["$defs"]["property"]["properties"]
    assert {"x-precision", "x-scale", "x-currency", "x-pattern"} <= set(props)


@pytest.mark.parametrize("scope", [True, False, "none", "own", "team", "all", 'region == "east"'])
def test_permission_scopes(scope: object) -> None:
    data = {"permissions": [{"role": "r", "entity": "lead", "read": scope}]}
    data_marks = load_yaml("permissions: []\n", "p.yaml")[1]
    assert schema_errors(data, data_marks, metaschema("permissions.json"), "p.yaml") == []


# --- kinds ----------------------------------------------------------------------------


def test_builtin_kinds_claim_their_folders() -> None:
    assert {"entity", "rules", "flow", "report", "dashboard", "permissions", "seed"} <= set(kinds())
    assert kind_for("entities/lead.yaml").name == "entity"
    assert kind_for("seed/lead.csv").name == "seed"
    assert kind_for("security/permissions.yaml").name == "permissions"
    assert kind_for("entities/sub/lead.yaml") is None
    assert kind_for("rules/score.yaml") is None


def test_a_kind_cannot_be_registered_twice() -> None:
    with pytest.raises(PluginError, match="already registered"):
        register_kind(FileKind("entity", "entities/*.yaml"))
    with pytest.raises(PluginError, match="parser"):
        register_kind(FileKind("odd_kind", "odd/*.x", parser="xml"))


# --- property: yamlpos reads back what a YAML writer wrote -----------------------------

_keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False)
    # Control characters and Unicode line breaks are left out: PyYAML's writer
    # emits some of them raw, which no YAML reader gives back unchanged.
    | st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
        max_size=12,
    )
)
_documents = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=20,
)


def _paths(value: object, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*path, index))
    return out


@given(st.dictionaries(_keys, _documents, min_size=1, max_size=5), st.booleans())
def test_yaml_round_trip_and_every_path_is_marked(data: dict, flow: bool) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, default_flow_style=flow, sort_keys=False)
    loaded, marks = load_yaml(text, "f.yaml")
    assert loaded == data
    for path in _paths(data):
        assert path in marks.values

"""The rule editor's endpoints over real HTTP: grids model, completion, examples, trace,
diff, dry-run replay, publishing with a stale version, and who may use them."""

from __future__ import annotations

import copy

import pytest

from tests.floor_defs import ACCOUNT, CONTACT, save
from tests.test_security import PERMISSIONS

ENTITY = copy.deepcopy(ACCOUNT)
ENTITY["schema"]["properties"]["score"] = {"type": "integer"}
ENTITY["schema"]["properties"]["grade"] = {"type": "string", "enum": ["hot", "cold"]}

RULES = """# Account fit
scoring account_score on account into score:
    +30 "Tech"          when industry == "tech"
    +10 "Big revenue"   when revenue >= 1000

grading account_grade on account from score into grade:
    "hot"  when score >= 30
    "cold" otherwise

test "a tech account is hot":
    given account {name: "A", industry: "tech"}
    expect score == 30 and grade == "hot"

test "a retail account is cold":
    given account {name: "B", industry: "retail"}
    expect grade == "cold"
"""


@pytest.fixture
def p(platform):
    save(platform, ENTITY)
    platform.meta.save("permissions", "sales", copy.deepcopy(PERMISSIONS))
    platform.meta.save("rules", "account", {"text": RULES}, user="root")
    platform.users.add("root", password="root-secret", roles=["admin"])
    platform.users.add("ann", password="ann-secret-1", roles=["sales_rep"], team="east")
    for name, industry in (("Acme", "tech"), ("Shop", "retail"), ("Bits", "tech")):
        platform.records("account").create({"name": name, "industry": industry})
    return platform


@pytest.fixture
def root(p, client):
    assert client.login("root", "root-secret") == 200
    return client


def test_model_and_print_round_trip(root):
    status, answer, _ = root.post("/api/v1/rules/model", {"text": RULES})
    assert status == 200
    blocks = answer["model"]["blocks"]
    score = next(b for b in blocks if b.get("name") == "account_score")
    assert score["rows"][0]["when"] == 'industry == "tech"'
    score["rows"][0]["points"] = "+40"
    status, printed, _ = root.post("/api/v1/rules/print", {"model": answer["model"]})
    assert status == 200 and '+40 "Tech"' in printed["text"]
    assert 'test "a tech account is hot":' in printed["text"]

    status, problem, _ = root.post("/api/v1/rules/model", {"text": "scoring x on account into:\n"})
    assert status == 422 and problem["errors"][0]["line"] == 1


def test_completion_offers_fields_functions_and_enum_values(root):
    text = RULES.replace('industry == "tech"', "ind")
    at = text.index("ind") + 3
    status, answer, _ = root.post("/api/v1/rules/complete", {"text": text, "position": at})
    labels = {i["label"]: i["type"] for i in answer["items"]}
    assert status == 200 and answer["entity"] == "account"
    assert labels["industry"] == "field" and labels["days_since"] == "function"
    text = RULES.replace('industry == "tech"', 'industry == "')
    at = text.index('industry == "') + len('industry == "')
    answer = root.post("/api/v1/rules/complete", {"text": text, "position": at})[1]
    assert {i["label"] for i in answer["items"]} == {"tech", "retail", "finance"}


def test_diagnostics_are_located(root):
    broken = RULES.replace('industry == "tech"', 'industry == "tec"')
    status, answer, _ = root.post("/api/v1/rules/check", {"text": broken, "path": "x.rules"})
    first = answer["diagnostics"][0]
    assert status == 200 and first["line"] == 3 and "tec" in first["message"]


def test_examples_run_one_by_one(root):
    answer = root.post("/api/v1/rules/examples", {"text": RULES})[1]
    assert [r["passed"] for r in answer["results"]] == [True, True]
    failing = RULES.replace('expect grade == "cold"', 'expect grade == "hot"')
    answer = root.post("/api/v1/rules/examples", {"text": failing})[1]
    assert [r["passed"] for r in answer["results"]] == [True, False]
    assert "retail account" in answer["results"][1]["label"] and answer["results"][1]["message"]


def test_trace_diff_replay_and_publish_conflict(p, root, new_client):
    acme = p.records("account").list(where='name == "Acme"')[0]
    status, trace, _ = root.get(f"/api/v1/rules/trace/account/{acme['id']}")
    assert status == 200
    score = next(r for r in trace["rulesets"] if r["ruleset"] == "account_score")
    assert score["value"] == 30 and [f["label"] for f in score["fired"]] == ["Tech"]

    found = root.get("/api/v1/meta/rules/account")[1]
    draft = RULES.replace("+30", "+35").replace("score == 30", "score == 35")
    answer = root.post(
        "/api/v1/rules/files/account/diff", {"from": found["version"], "text": draft}
    )[1]
    assert answer["changed"] and any(
        line.startswith("+") and "+35" in line for line in answer["diff"]
    )

    report = root.post(
        "/api/v1/rules/files/account/replay", {"ruleset": "account_score", "text": draft}
    )[1]
    assert "checked" in report, report
    assert report["checked"] == 3 and report["changed"] == 2 and report["version"] == "draft"

    other = new_client()
    assert other.login("root", "root-secret") == 200
    body = {"definition": {"name": "account", "text": draft}, "version": found["version"]}
    assert root.call("PUT", "/api/v1/meta/rules/account", body)[0] == 200
    assert other.call("PUT", "/api/v1/meta/rules/account", body)[0] == 409


def test_only_customizers_may_use_the_editor(p, client):
    assert client.login("ann", "ann-secret-1") == 200
    assert client.post("/api/v1/rules/model", {"text": RULES})[0] == 403
    assert client.get("/build/rules/account", headers={"Accept": "application/json"})[0] == 403


def test_the_page_allows_its_import_map_and_no_inline_script(root):
    status, html, headers = root.get("/build/rules/account", headers={"Accept": "text/html"})
    assert status == 200
    csp = headers["Content-Security-Policy"]
    assert (
        "'sha256-" in csp and "unsafe-inline'; img" in csp and "script-src 'self' 'sha256-" in csp
    )
    assert b'type="importmap"' in html
    assert root.get("/vendor/esm/@codemirror/view.js")[0] == 200
    assert root.get("/vendor/esm/../package.json")[0] == 404


def test_a_decision_table_row_counts_as_a_condition(root):
    status, answer, _ = root.post(
        "/api/v1/rules/table-row", {"inputs": ["industry"], "cells": ['"tech", "retail"']}
    )
    assert status == 200 and answer["condition"] == '(industry == "tech" or industry == "retail")'
    found = root.post(
        "/api/v1/rules/matching", {"condition": answer["condition"], "entity": "account"}
    )[1]
    assert found["count"] == 3


def test_the_index_lists_rules_files_with_their_rule_sets(root):
    status, html, _ = root.get("/build/rules", headers={"Accept": "text/html"})
    assert status == 200
    assert b'href="/build/rules/account"' in html and b"account_grade" in html
    assert root.get("/build/rules/nothing", headers={"Accept": "text/html"})[0] == 404


def test_a_diff_between_two_stored_versions(p, root):
    first = p.meta.get("rules", "account")["version"]
    changed = RULES.replace('"Big revenue"', '"Large revenue"')
    second = p.meta.save("rules", "account", {"text": changed}, user="root", base_version=first)
    answer = root.post("/api/v1/rules/files/account/diff", {"from": first, "to": second})[1]
    assert [line for line in answer["diff"] if line[:1] in "+-" and line[:3] not in "+++---"] == [
        '-    +10 "Big revenue"   when revenue >= 1000',
        '+    +10 "Large revenue"   when revenue >= 1000',
    ]
    assert root.post("/api/v1/rules/files/account/diff", {"from": 99, "to": second})[0] == 422


def test_a_validation_grid_round_trips_with_its_field(root):
    text = 'validation account_checks on account:\n    error "Name it / 请命名" on name when name is null\n'
    status, answer, _ = root.post("/api/v1/rules/model", {"text": text})
    assert status == 200
    (block,) = [b for b in answer["model"]["blocks"] if b["kind"] == "validation"]
    assert block["rows"][0]["message_zh"] == "请命名" and block["rows"][0]["field"] == "name"
    block["rows"][0]["field"] = "industry"
    block["rows"][0]["message"] = "Name it, please"
    printed = root.post("/api/v1/rules/print", {"model": answer["model"]})[1]["text"]
    assert '"Name it, please / 请命名" on industry when name is null' in " ".join(printed.split())
    checked = root.post(
        "/api/v1/rules/check", {"text": printed.replace("industry", "indstry"), "path": "a.rules"}
    )
    assert any("indstry" in d["message"] for d in checked[1]["diagnostics"])


def test_an_entity_without_rules_opens_as_a_new_file(p, root):
    save(p, copy.deepcopy(CONTACT))
    index = root.get("/build/rules", headers={"Accept": "text/html"})[1]
    assert b'data-entity="contact" href="/build/rules/contact"' in index
    status, html, _ = root.get("/build/rules/contact", headers={"Accept": "text/html"})
    assert status == 200 and b'data-version="0" data-entity="contact"' in html
    text = 'validation contact_checks on contact:\n    error "Name" on full_name when false\n'
    body = {"definition": {"name": "contact", "text": text}, "version": 0}
    assert root.call("PUT", "/api/v1/meta/rules/contact", body)[0] == 201
    # a second admin who also started from nothing is refused, not silently overwritten
    assert root.call("PUT", "/api/v1/meta/rules/contact", body)[0] == 409
    index = root.get("/build/rules", headers={"Accept": "text/html"})[1]
    assert b'data-entity="contact"' not in index and b'data-file="contact"' in index

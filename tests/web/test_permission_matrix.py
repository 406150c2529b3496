"""Roles x doors: every way into the data shows a user exactly the rows their scope allows.

One record set, one permission table, and for each user the set of account
ids they may read, worked out here from the table by hand. Each door (get by
id, list, list with a widening filter, matching, export, a report, its
drill-down, starting a flow) must agree with it: a single leak fails.
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.floor_defs import ACCOUNT, save

PERMISSIONS = {
    "roles": {"rep": {"label": "Rep"}, "analyst": {"label": "Analyst"}, "guest": {"label": "Guest"}},
    "permissions": [
        {"role": "rep", "entity": "account", "create": True, "read": "team", "update": "own",
         "export": "own"},
        {"role": "analyst", "entity": "account", "read": 'industry == "tech"', "export": "all"},
    ],
}  # fmt: skip
USERS = {"ann": ("rep", "east"), "bob": ("rep", "east"), "cat": ("rep", "west"),
         "ida": ("analyst", None), "gus": ("guest", None)}  # fmt: skip
ROWS = [("ann", "tech"), ("ann", "retail"), ("bob", "tech"), ("cat", "tech"), ("cat", "finance")]
REPORT = {
    "name": "by_industry", "label": "By industry", "source": "account",
    "rows": ["industry"], "measures": [{"name": "n", "agg": "count"}],
}  # fmt: skip


def readable(user: str, rows: dict[int, tuple[str, str]]) -> set[int]:
    role, team = USERS[user]
    if role == "rep":
        return {i for i, (owner, _) in rows.items() if USERS[owner][1] == team}
    if role == "analyst":
        return {i for i, (_, industry) in rows.items() if industry == "tech"}
    return set()


def exportable(user: str, rows: dict[int, tuple[str, str]]) -> set[int]:
    role, _ = USERS[user]
    if role == "rep":
        return {i for i, (owner, _) in rows.items() if owner == user}
    return readable(user, rows) if role == "analyst" else set()


@pytest.fixture
def world(platform):
    save(platform, ACCOUNT)
    platform.meta.save("permissions", "p", PERMISSIONS)
    platform.meta.save("report", "by_industry", REPORT)
    for name, (role, team) in USERS.items():
        platform.users.add(name, password=f"{name}-secret-1", roles=[role], team=team)
    rows = {}
    for n, (owner, industry) in enumerate(ROWS):
        created = platform.records("account", owner).create({"name": f"A{n}", "industry": industry})
        rows[created["id"]] = (owner, industry)
    return platform, rows


@pytest.mark.parametrize("user", sorted(USERS))
def test_every_door_agrees_with_the_scope(world, new_client, user):
    p, rows = world
    c = new_client()
    c.token = p.users.create_token(user)["token"]
    allowed = readable(user, rows)
    # by id
    for rid in rows:
        status = c.get(f"/api/v1/records/account/{rid}")[0]
        assert status == (200 if rid in allowed else (403 if not allowed else 404)), (rid, status)
    if not allowed:  # no read scope at all: every door refuses
        assert c.get("/api/v1/records/account")[0] == 403
        assert c.get("/api/v1/reports/by_industry")[0] == 403
        assert c.get("/api/v1/records/account/export")[0] == 403
        return
    # lists, with and without a filter that tries to widen the scope
    for query in (
        "?limit=100",
        "?where=true%20or%20true&limit=100",
        "?where=id%20%3E%200&limit=100",
    ):
        status, page, _ = c.get(f"/api/v1/records/account{query}")
        assert status == 200 and {r["id"] for r in page["items"]} == allowed, query
    status, found, _ = c.post("/api/v1/rules/matching", {"entity": "account", "condition": "true"})
    assert found["count"] == len(allowed)
    # a report and its drill-down count only readable rows
    status, result, _ = c.get("/api/v1/reports/by_industry")
    counted = sum(r["cells"][0][0] for r in result["rows"])
    assert counted == len(allowed)
    drill = p.reports.drill(REPORT, ["tech"], user=user)
    assert drill["count"] == len({i for i in allowed if rows[i][1] == "tech"})
    # export: the export scope, within what may be read
    status, data, _ = c.get("/api/v1/records/account/export")
    expected_export = exportable(user, rows) & allowed
    if status == 200:
        exported = {int(r[0]) for r in list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]}
        assert exported == expected_export
    else:
        assert status == 403 and not expected_export

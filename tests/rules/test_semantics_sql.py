"""semantics.yaml through SQL: the documented answers hold in SQLite and PostgreSQL too.

Each case's record is stored through the record API and the expression runs
as SQL over it. Cases SQL cannot express are counted, not silently dropped:
an update's ``old`` (a query has no "before"), records the entity cannot
store as written (a nested reference), and expressions with a part the SQL
compiler refuses with a located error (listed in docs/rules.md). The test
requires most cases to run, so a regression that makes everything "not
supported" fails too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from engine import Platform, TesseraError
from engine.clock import Clock
from engine.rules.compile_sql import SqlNotSupported
from tests.floor_defs import save
from tests.rules.fixtures import ACCOUNT, LEAD, OPPORTUNITY
from tests.rules.test_compile_js import CASES, NOW

#: At least this share of the documented cases must run in SQL.
MIN_SHARE = 0.6


def _normal(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"datetime"}:
        value = dt.datetime.fromisoformat(value["datetime"].replace("Z", "+00:00"))
    if isinstance(value, dict) and set(value) == {"duration"}:
        value = Decimal(str(value["duration"]))
    if isinstance(value, dict) and set(value) == {"decimal"}:
        value = Decimal(value["decimal"])
    if isinstance(value, dt.timedelta):
        value = Decimal(str(value.total_seconds()))
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).quantize(Decimal("0.000001"))
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _platform(url: str, tz: str, now: str) -> Platform:
    clock = Clock(tz)
    clock.set(now.replace("Z", "+00:00"))
    p = Platform(url, clock=clock)
    save(p, ACCOUNT, LEAD, OPPORTUNITY)
    return p


def test_documented_semantics_hold_in_sql(db_url):
    platforms: dict[tuple[str, str], Platform] = {}
    ran, skipped, problems = 0, {"old": 0, "record": 0, "sql": 0}, []
    try:
        for case in CASES:
            if case.get("old") is not None or "changed" in case["expr"]:
                skipped["old"] += 1
                continue
            key = (case.get("tz", "UTC"), case.get("now", NOW))
            if key not in platforms:
                if platforms:  # one database per test: start clean for another clock
                    for p in platforms.values():
                        p.close()
                    platforms.clear()
                platforms[key] = _platform(db_url, *key)
            p = platforms[key]
            entity = case.get("entity", "lead")
            try:
                record = p.records(entity).create(dict(case.get("record") or {}))
            except TesseraError:
                skipped["record"] += 1
                continue
            compiled = p.rules.compile(case["expr"], entity)
            try:
                column = compiled.sql_value(user=case.get("user"))
            except SqlNotSupported:
                skipped["sql"] += 1
                continue
            table = p.entities.get(entity).table
            try:
                with p.db.transaction(write=False) as conn:
                    got = conn.execute(select(column).where(table.c.id == record["id"])).scalar()
            except Exception as exc:  # report the case, not only the first database error
                problems.append(f"{case['id']}: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            ran += 1
            if _normal(got) != _normal(case["expect"]):
                problems.append(f"{case['id']}: sql {got!r}, expected {case['expect']!r}")
    finally:
        for p in platforms.values():
            p.close()
    print(f"semantics in SQL: {ran} of {len(CASES)} cases ran; skipped {skipped}")
    assert not problems, "\n".join(problems)
    assert ran >= MIN_SHARE * len(CASES), (ran, skipped)

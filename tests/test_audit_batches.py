"""A ``create_many`` batch's creation entries written as ``create_batch`` rows read back
exactly as the one-row-per-record entries they replace.

Twin entities on one platform (the same definition under two names, so their ids
come from two sources that advance alike) take the same generated batches, one
with ``engine.store.audit.BATCH_ROWS`` off (a row per record, the format before)
and one with it on. Every record's ``history()``, the record page's timeline, the
funnel and forecast reports over a stage history (creations, then updates of the
stage) must be identical; a refused batch leaves no audit row either way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from engine.errors import ValidationError
from engine.store import audit
from engine.store.system import audit_log

STAGES = ["lead", "qualified", "proposal", "won", "lost"]
COLORS = ["red", "green", "蓝"]


def every(name: str) -> dict[str, Any]:
    """An entity with a field of each built-in type a create can fill. Left out: files
    (they need an upload first; their entry is the file id, a text) and durations
    (their entry is whole seconds, an integer, which the integer field covers)."""
    return {
        "name": name,
        "title_field": "title",
        "schema": {
            "type": "object",
            "properties": {
                "title": {"type": "string", "maxLength": 80},
                "body": {"type": "string", "x-type": "long_text"},
                "rich": {"type": "string", "x-type": "rich_text"},
                "email": {"type": "string", "format": "email"},
                "phone": {"type": "string", "x-type": "phone"},
                "site": {"type": "string", "format": "uri"},
                "stage": {"type": "string", "enum": STAGES},
                "count": {"type": "integer"},
                "ratio": {"type": "number"},
                "amount": {"type": "number", "x-type": "currency"},
                "share": {"type": "number", "x-type": "percent"},
                "flag": {"type": "boolean"},
                "close": {"type": "string", "format": "date"},
                "when": {"type": "string", "format": "date-time"},
                "colors": {
                    "type": "array",
                    "items": {"type": "string", "enum": COLORS},
                    "uniqueItems": True,
                },
                "labels": {"type": "array", "items": {"type": "string"}, "x-type": "tags"},
                "rep": {"type": "string", "x-type": "user"},
                "account": {"type": "integer", "x-ref": "account"},
                "code": {"type": "string", "x-type": "autonumber", "x-pattern": "E-{#####}"},
                "shout": {"type": "string", "x-computed": "upper(title)"},
                "lines": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"item": {"type": "string"}, "qty": {"type": "integer"}},
                    },
                },
            },
        },
    }


ACCOUNT = {
    "name": "account",
    "schema": {"type": "object", "properties": {"name": {"type": "string"}}},
}

pieces = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=4),
    st.sampled_from(['"', "'", "\\", "线索", "客户", "😀", "\u2028", '","before":{}}']),
)
texts = st.lists(pieces, max_size=5).map("".join)
fields: dict[str, Any] = {
    "title": texts,
    "body": st.one_of(texts, st.none()),
    "rich": st.sampled_from(["<b>粗体</b>", "<p>a &amp; b</p>", None]),
    "email": st.sampled_from(["a@b.co", "用户@例子.中国", None]),
    "phone": st.sampled_from(["+86 138 0000 0000", None]),
    "site": st.sampled_from(["https://example.com/a?b=1&c=%22", None]),
    "stage": st.sampled_from([*STAGES, None]),
    "count": st.one_of(st.integers(-(2**53), 2**53), st.none()),
    "ratio": st.one_of(st.decimals(places=3, min_value=-(10**6), max_value=10**6), st.none()),
    "amount": st.one_of(st.decimals(places=2, min_value=0, max_value=10**9), st.none()),
    "share": st.one_of(st.decimals(places=1, min_value=0, max_value=100), st.none()),
    "flag": st.one_of(st.booleans(), st.none()),
    "close": st.one_of(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)), st.none()),
    "when": st.one_of(
        st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)),
        st.none(),
    ),
    "colors": st.one_of(st.lists(st.sampled_from(COLORS), unique=True), st.none()),
    "labels": st.one_of(st.lists(texts, max_size=3, unique=True), st.none()),
    "rep": st.sampled_from(["ann", "王五", None]),
    "lines": st.lists(st.fixed_dictionaries({"item": texts, "qty": st.integers(0, 9)}), max_size=2),
}
#: Records leaving out any field (left out is not null: the entry shows the difference).
record = st.fixed_dictionaries({}, optional=fields)
#: The chunk the generated tests use (the module's is larger; one test below takes it).
SMALL = 8
#: Sizes around the chunk: one under, at, one over, two chunks and a bit.
sizes = st.sampled_from([2, 3, SMALL - 1, SMALL, SMALL + 1, 2 * SMALL + 3])


@pytest.fixture
def twins(platform, monkeypatch):
    """Two copies of one entity: ``per_record`` is written with batch rows off. Small
    chunks (CHUNK of 8), so generated batches cross them cheaply."""
    monkeypatch.setattr(audit, "CHUNK", SMALL)
    platform.meta.save("entity", "account", ACCOUNT)
    platform.meta.save("entity", "per_record", every("per_record"))
    platform.meta.save("entity", "batched", every("batched"))
    platform.users.add("ann", roles=["admin"], team="east")
    platform.clock.set("2026-12-02T12:00:00+00:00")
    account = platform.records("account").create({"name": "Acme"})
    return platform, account["id"]


def create_both(p: Any, rows: list[dict[str, Any]], user: str | None = "ann") -> list[Any]:
    """Create ``rows`` on both twins (batch rows off, then on); the two lists of ids."""
    out = []
    for name, batch_rows in (("per_record", False), ("batched", True)):
        kept = audit.BATCH_ROWS
        audit.BATCH_ROWS = batch_rows
        try:
            out.append(p.records(name, user=user).create_many([dict(r) for r in rows]))
        finally:
            audit.BATCH_ROWS = kept
    return [[r["id"] for r in created] for created in out]


def audit_rows(p: Any, entity: str) -> list[tuple[str, int]]:
    with p.db.transaction(write=False) as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(audit_log.c.action, func.count())
                .where(audit_log.c.entity == entity)
                .group_by(audit_log.c.action)
                .order_by(audit_log.c.action)
            )
        ]


def same_histories(p: Any, ids: list[Any]) -> None:
    a, b = p.records("per_record"), p.records("batched")
    for rid in ids:
        assert a.history(rid) == b.history(rid), rid


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_histories_are_the_same_either_way(twins, data) -> None:
    p, account = twins
    size = data.draw(sizes)
    rows = data.draw(st.lists(record, min_size=size, max_size=size))
    for row in rows:
        if data.draw(st.booleans()):
            row["account"] = account
    before = dict(audit_rows(p, "batched"))
    first, second = create_both(p, rows)
    assert first == second
    same_histories(p, first)
    # a create_many of two or more records writes batch rows, a single create its own row
    after = dict(audit_rows(p, "batched"))
    batch_rows = after["create_batch"] - before.get("create_batch", 0)
    assert batch_rows == -(-len(rows) // SMALL) and after.get("create") == before.get("create")
    one = create_both(p, [rows[0]])
    assert one[0] == one[1]
    same_histories(p, one[0])


def test_entries_follow_updates_and_deletes_in_order(twins) -> None:
    p, _ = twins
    rows = [{"title": f"客户 {i}", "stage": "lead", "amount": Decimal("1.50")} for i in range(5)]
    ids, _ = create_both(p, rows)
    for name in ("per_record", "batched"):
        service = p.records(name, user="ann")
        service.update(ids[1], {"stage": "won"})
        service.update(ids[1], {"title": "改名"})
        service.delete(ids[3])
    same_histories(p, ids)
    history = p.records("batched").history(ids[1])
    assert [e["action"] for e in history] == ["create", "update", "update"]
    assert history[0]["before"] == {} and history[0]["after"]["title"] == "客户 1"
    assert history[0]["after"]["amount"] == "1.50" and history[0]["version"] == 1


def test_the_real_chunk(platform) -> None:
    """The module's own CHUNK: a batch of two chunks and one more record."""
    platform.meta.save("entity", "account", ACCOUNT)
    platform.meta.save("entity", "per_record", every("per_record"))
    platform.meta.save("entity", "batched", every("batched"))
    platform.clock.set("2026-12-02T12:00:00+00:00")
    rows = [
        {"title": f"线索 {i}", "stage": STAGES[i % 5], "count": i}
        for i in range(2 * audit.CHUNK + 1)
    ]
    ids, _ = create_both(platform, rows, user=None)
    same_histories(platform, ids)
    assert dict(audit_rows(platform, "batched")) == {"create_batch": 3}


def test_chunks_split_by_size_and_span() -> None:
    chunk = span = audit.CHUNK
    assert audit.batch_chunks([]) == []
    assert audit.batch_chunks(list(range(1, 2 * chunk + 2))) == [
        (0, chunk),
        (chunk, 2 * chunk),
        (2 * chunk, 2 * chunk + 1),
    ]
    assert audit.batch_chunks([10, 10 + span - 1, 10 + span]) == [(0, 2), (2, 3)]
    assert audit.batch_chunks([5, 3, 4, 9]) == [(0, 1), (1, 4)]


@given(st.lists(st.integers(1, 10 * audit.CHUNK), unique=True, max_size=3 * audit.CHUNK))
def test_every_chunk_fits_the_readers_range(ids: list[int]) -> None:
    """Whatever the ids, the chunks cover them in order, and each id lies in
    ``[first, first + CHUNK)``: the range ``history()`` looks in."""
    chunks = audit.batch_chunks(ids)
    assert [i for start, stop in chunks for i in ids[start:stop]] == ids
    for start, stop in chunks:
        assert 0 < stop - start <= audit.CHUNK
        assert all(ids[start] <= i < ids[start] + audit.CHUNK for i in ids[start:stop])


def test_ids_out_of_order_and_with_gaps(twins, monkeypatch) -> None:
    """Ids that are not one ascending run (given by another id source) still read back."""
    p, _ = twins
    handed = iter([7, 3, 900, 901, 5000, 4, 5001, 2 * audit.CHUNK + 7000, 6])

    def allocate(conn: Any, table: str, n: int) -> list[int]:
        return (
            [next(handed) for _ in range(n)] if table.endswith("batched") else real(conn, table, n)
        )

    real = p.ids.allocate
    monkeypatch.setattr(p.ids, "allocate", allocate)
    rows = [{"title": f"#{i}", "stage": STAGES[i % 5]} for i in range(9)]
    created = p.records("batched", user="ann").create_many(rows)
    assert [r["id"] for r in created] == [7, 3, 900, 901, 5000, 4, 5001, 2 * audit.CHUNK + 7000, 6]
    for row, rec in zip(rows, created, strict=True):
        (entry,) = p.records("batched").history(rec["id"])
        assert entry["action"] == "create" and entry["after"]["title"] == row["title"]
    # an id no batch holds, inside a batch row's range: no entry
    assert p.records("batched").history(8) == []
    assert p.records("batched").history(902) == []


def test_a_refused_batch_leaves_no_audit_rows(twins) -> None:
    p, _ = twins
    rows = [{"title": "ok", "stage": "lead"}, {"title": "bad", "stage": "nope"}]
    for name in ("per_record", "batched"):
        with pytest.raises(ValidationError):
            p.records(name, user="ann").create_many([dict(r) for r in rows])
        assert audit_rows(p, name) == []


def test_a_batch_refused_by_the_database_leaves_no_audit_rows(twins, monkeypatch) -> None:
    """A failure after the batch rows are written (here: the save hook's finish) rolls
    them back with the records."""
    p, _ = twins
    real = p.save_hook.begin

    def begin(*args: Any, **kwargs: Any) -> Any:
        save = real(*args, **kwargs)

        def finish(conn: Any) -> None:
            raise RuntimeError("refused after the audit rows")

        save.finish = finish
        return save

    monkeypatch.setattr(p.save_hook, "begin", begin)
    with pytest.raises(RuntimeError):
        p.records("batched", user="ann").create_many([{"title": "a"}, {"title": "b"}])
    assert audit_rows(p, "batched") == []
    assert p.records("batched").count() == 0


# -- the stage reports -----------------------------------------------------------------

FUNNEL = {"type": "funnel", "stage": "stage", "stages": STAGES[:4], "amount": "amount"}
FORECAST = {
    "type": "forecast",
    "stage": "stage",
    "won": "won",
    "lost": ["lost"],
    "amount": "amount",
    "close": "close",
}
paths = st.lists(st.sampled_from(STAGES), min_size=1, max_size=4)


@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_funnel_and_forecast_are_the_same_either_way(twins, data) -> None:
    p, _ = twins
    size = data.draw(st.sampled_from([2, SMALL + 1, 2 * SMALL]))
    journeys = data.draw(st.lists(paths, min_size=size, max_size=size))
    rows = [
        {
            "title": f"deal {i}",
            "stage": path[0],
            "amount": Decimal(10 * (i % 7)),
            "close": dt.date(2026, 1 + i % 12, 1 + i % 28),
        }
        for i, path in enumerate(journeys)
    ]
    ids, _ = create_both(p, rows)
    for name in ("per_record", "batched"):
        service = p.records(name, user="ann")
        for rid, path in zip(ids, journeys, strict=True):
            for stage in path[1:]:
                service.update(rid, {"stage": stage})
    for spec in (FUNNEL, FORECAST):
        results = [
            p.reports.run({**spec, "name": f"r_{name}", "source": name})
            for name in ("per_record", "batched")
        ]
        assert results[0]["rows"] == results[1]["rows"], spec["type"]
    windowed = {**FUNNEL, "window": {"from": "2026-12-01", "to": "2026-12-31"}}
    a, b = (
        p.reports.run({**windowed, "name": f"w_{name}", "source": name})
        for name in ("per_record", "batched")
    )
    assert a["rows"] == b["rows"]
    assert sum(r["entered"] for r in b["rows"]) > 0

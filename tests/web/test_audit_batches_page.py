"""The record page's timeline reads a record created in a batch the same whichever way
the batch's creation entries were written (``create_batch`` rows or a row per record)."""

from __future__ import annotations

import re

from engine.store import audit
from tests.test_audit_batches import ACCOUNT, every


def _timeline(page: bytes) -> str:
    found = re.search(r'<section class="card" id="timeline">.*?</section>', page.decode(), re.S)
    assert found, "no timeline on the record page"
    return found.group(0)


def test_the_timeline_text_is_the_same_either_way(platform, new_client):
    p = platform
    p.meta.save("entity", "account", ACCOUNT)
    for name in ("per_record", "batched"):
        p.meta.save("entity", name, every(name))
    p.users.add("ann", password="ann-secret-1", roles=["admin"])
    p.clock.set("2026-12-02T12:00:00+00:00")
    rows = [{"title": f"客户 {i}", "stage": "lead"} for i in range(5)]
    ids = {}
    for name, batch_rows in (("per_record", False), ("batched", True)):
        kept = audit.BATCH_ROWS
        audit.BATCH_ROWS = batch_rows
        try:
            ids[name] = [r["id"] for r in p.records(name, "ann").create_many(rows)]
        finally:
            audit.BATCH_ROWS = kept
        p.records(name, "ann").update(ids[name][2], {"stage": "won", "title": "赢单"})
    assert ids["per_record"] == ids["batched"]
    c = new_client()
    assert c.login("ann", "ann-secret-1") == 200
    for rid in ids["batched"]:
        pages = []
        for name in ("per_record", "batched"):
            status, page, _ = c.get(f"/app/{name}/{rid}", headers={"Accept": "text/html"})
            assert status == 200
            pages.append(_timeline(page).replace(f"/app/{name}/", "/app/ENTITY/"))
        assert pages[0] == pages[1]
        assert 'data-action="create"' in pages[1] and "ann" in pages[1]
    status, page, _ = c.get(f"/app/batched/{ids['batched'][2]}", headers={"Accept": "text/html"})
    assert _timeline(page).count('data-action="update"') == 1

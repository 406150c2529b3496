"""Database.savepoint: an undone part of a write takes its after-commit callbacks with it.

A batch action, an import and the grouped follow-ups run each record under a
savepoint inside one transaction. A record refused there is rolled back alone,
and whatever it asked to run after the commit (a flow to start, a follow-up to
apply) must not run for a write that never happened.
"""

from __future__ import annotations

import pytest


def test_a_rolled_back_savepoint_drops_its_callbacks_and_a_kept_one_keeps_them(platform):
    db = platform.db
    done: list[str] = []
    with db.transaction():
        db.after_commit(lambda: done.append("before"))
        with pytest.raises(RuntimeError), db.savepoint():
            db.after_commit(lambda: done.append("undone"))
            raise RuntimeError("this record is refused")
        with db.savepoint():
            db.after_commit(lambda: done.append("kept"))
        assert done == []  # nothing runs before the commit
    assert done == ["before", "kept"]


def test_a_savepoint_needs_a_transaction(platform):
    with pytest.raises(RuntimeError, match="open transaction"), platform.db.savepoint():
        pass

"""Defaults: literals stay literals, clock and user expressions are evaluated, unknown ones refused."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import BundleError
from tests.floor_defs import ACCOUNT, definition, save


def test_literal_with_parentheses_is_a_literal(platform):
    save(platform, definition(ACCOUNT, hq={"type": "string", "x-default": "Beijing (HQ)"},
                              since={"type": "string", "format": "date", "x-default": "today()"},
                              by={"x-type": "user", "x-default": "user()"}))  # fmt: skip
    platform.clock.set("2026-03-04T10:00")
    platform.users.add("alice", roles=["admin"])
    a = platform.records("account", user="alice").create({"name": "A"})
    assert a["hq"] == "Beijing (HQ)"
    assert a["since"] == dt.date(2026, 3, 4)
    assert a["by"] == "alice"


def test_unknown_default_expression_is_refused(platform):
    with pytest.raises(BundleError) as info:
        save(platform, definition(ACCOUNT, hq={"type": "string", "x-default": "tomorrow()"}))
    assert "unknown default 'tomorrow()'" in str(info.value)

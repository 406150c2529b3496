"""Fixtures for the flow tests: a platform with the ``deal`` entity saved."""

from __future__ import annotations

import pytest

from tests.floor_defs import save
from tests.flows.defs import DEAL


@pytest.fixture
def p(platform):
    save(platform, DEAL)
    return platform

"""The page-test harness: Debian's chromium driven by Playwright, never a downloaded browser.

``scripts/test`` installs chromium and sets ``TESSERA_CHROMIUM``; when it is set, a
missing browser is a failure, not a skip, so CI cannot pass without page tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("TESSERA_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = chromium_path()
    if not path or not os.path.exists(path):
        if os.environ.get("TESSERA_CHROMIUM"):
            pytest.fail(f"TESSERA_CHROMIUM={path} does not exist")
        pytest.skip("no chromium on this machine (scripts/test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context()
    p = context.new_page()
    try:
        yield p
    finally:
        context.close()

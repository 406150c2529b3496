"""The page-test harness: Debian's chromium driven by Playwright, never a downloaded browser.

``scripts/test`` installs chromium and sets ``TESSERA_CHROMIUM``; when it is set, a
missing browser is a failure, not a skip, so CI cannot pass without page tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# ---------------------------------------------------------------- the CRM site

ROOT = Path(__file__).resolve().parents[2]
CRM_BUNDLE = ROOT / "apps" / "crm"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def output_dir() -> Path:
    """Where page tests leave screenshots: ``$TESSERA_TEST_OUTPUT`` or ``test-output/``."""
    from tests.conftest import on_postgres

    base = Path(os.environ.get("TESSERA_TEST_OUTPUT") or ROOT / "test-output")
    folder = base / "screenshots" / ("postgresql" if on_postgres() else "sqlite")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot(page: Any, name: str) -> Path:
    """A full-page screenshot of ``page`` saved as ``<output>/screenshots/<db>/<name>.png``."""
    path = output_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class Site:
    """A real ``tessera serve`` on loopback over the CRM with its small demo data."""

    url: str
    db_url: str
    passwords: dict[str, str]  # user -> password
    by_role: dict[str, str]  # role -> a user with it

    def login(self, page: Any, user: str, *, lang: str | None = None) -> None:
        """Sign ``user`` in through the sign-in form and wait for the home page."""
        page.goto(self.url + "/login" + (f"?lang={lang}" if lang else ""))
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", self.passwords[user])
        page.click("button[type=submit]")
        page.wait_for_selector("#who")

    def platform(self) -> Any:
        """A platform on the site's database, for checking what the pages did."""
        from engine.platform import Platform

        return Platform(self.db_url)


@pytest.fixture(scope="session")
def crm_site(tmp_path_factory) -> Iterator[Site]:
    """The CRM demo (small) installed once per test process and served by ``tessera serve``."""
    from engine.demo import run_demo
    from engine.platform import Platform
    from tests.conftest import database_url

    folder = tmp_path_factory.mktemp("crm-site")
    with database_url(folder, "site") as url:
        with Platform(url) as p:
            report = run_demo(p, CRM_BUNDLE, "small")
        port = free_port()
        # tests/fixtures/plugins holds installed-looking plugin distributions (a
        # .dist-info with entry points), so the served site loads third-party types.
        plugins = ROOT / "tests" / "fixtures" / "plugins"
        env = dict(
            os.environ,
            TESSERA_SECRET_KEY="page-tests",
            PYTHONPATH=os.pathsep.join([str(ROOT), str(plugins)]),
        )
        log = (folder / "serve.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "serve", "--db", url, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(
                        "tessera serve did not start:\n" + (folder / "serve.log").read_text()
                    )
                time.sleep(0.2)
            yield Site(
                url=base,
                db_url=url,
                passwords={user: pw for _role, user, pw in report.logins},
                by_role={role: user for role, user, _pw in report.logins},
            )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()

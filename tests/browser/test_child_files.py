"""A file cell in a child-table grid: picked, uploaded with the row field's checks, saved
with the parent record, shown on the record page, removed with its row."""

from __future__ import annotations

import copy
import re
import threading

import pytest
from werkzeug.serving import make_server

from tests.browser.conftest import shot
from tests.floor_defs import save
from tests.test_files import EXE, PDF, PERMISSIONS, PNG
from tests.web.test_child_files_api import EXPENSE
from web.app import create_app


@pytest.fixture
def site(platform):
    save(platform, copy.deepcopy(EXPENSE))
    platform.meta.save("permissions", "docs", PERMISSIONS)
    platform.users.add("ann", password="ann-secret-1", roles=["rep"], team="east")
    app = create_app(platform, config={"SECRET_KEY": "page-test"})
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield platform, f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()


def _login(page, url):
    page.goto(url + "/login?lang=en")
    page.fill("input[name=username]", "ann")
    page.fill("input[name=password]", "ann-secret-1")
    page.click("button[type=submit]")
    page.wait_for_selector("#who")


def test_a_row_gets_a_file_saved_with_the_parent(page, site):
    platform, url = site
    _login(page, url)
    page.goto(url + "/app/doc/new")
    page.wait_for_selector("#record-form")
    page.fill("[name=title]", "Trip to Shanghai")
    grid = page.locator("[data-field=lines]")
    for _ in range(2):
        grid.locator(".row-add").click()
    rows = grid.locator("tbody tr")
    rows.nth(0).locator("input[data-col=amount]").fill("12")
    rows.nth(1).locator("input[data-col=amount]").fill("90")
    # each row's cell uploads its own file at once, and shows its name
    rows.nth(0).locator(".cell-files input[type=file]").set_input_files(
        files=[{"name": "taxi.png", "mimeType": "image/png", "buffer": PNG}]
    )
    rows.nth(0).locator(".cell-files .file-list li").wait_for()
    rows.nth(1).locator(".cell-files input[type=file]").set_input_files(
        files=[{"name": "hotel.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    rows.nth(1).locator(".cell-files .file-list li").wait_for()
    # the server refuses a program renamed to an image, on the table's field
    rows.nth(1).locator(".cell-files input[type=file]").set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": EXE}]
    )
    error = page.locator("[data-error-for=lines]")
    error.wait_for()
    assert error.inner_text()
    assert rows.nth(1).locator(".file-link").inner_text() == "hotel.pdf"  # the good one stays
    shot(page, "form-child-file")
    page.click("#save")
    page.wait_for_url(re.compile(r"/app/doc/\d+$"))
    page.wait_for_selector("#record-title")
    shown = page.locator("[data-field=lines] .grid-view tbody")
    assert "taxi.png" in shown.inner_text() and "hotel.pdf" in shown.inner_text()
    doc_id = int(page.url.rsplit("/", 1)[1])
    doc = platform.records("doc").get(doc_id)
    receipts = [r["receipt"] for r in doc["lines"]]
    assert platform.files.read(receipts[0])[1] == PNG
    assert platform.files.read(receipts[1])[1] == PDF

    # editing: the cells show their files; removing a row and saving deletes its file
    page.goto(f"{url}/app/doc/{doc_id}/edit")
    page.wait_for_selector("#record-form")
    rows = page.locator("[data-field=lines] tbody tr")
    assert rows.nth(0).locator(".file-link").inner_text() == "taxi.png"
    rows.nth(0).locator(".row-remove").click()
    page.click("#save")
    page.wait_for_url(re.compile(r"/app/doc/\d+$"))
    page.wait_for_selector("#record-title")
    doc = platform.records("doc").get(doc_id)
    assert [r["receipt"] for r in doc["lines"]] == [receipts[1]]
    assert platform.files.describe([receipts[0]]) == {}

"""Fixes from the QA walk of the CRM demo, checked in the browser: the import button cannot
import the same file twice, and the flow designer's palette names node types by label."""

from __future__ import annotations

import csv
import uuid

from tests.browser.conftest import shot
from tests.browser.test_engine_messages_zh import chinese


def test_the_import_button_is_off_once_the_file_is_in(page, crm_site, tmp_path):
    tag = "Once" + uuid.uuid4().hex[:8]
    upload = tmp_path / f"{tag}.csv"
    with upload.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["Company", "Name"], [f"{tag} 有限公司", "Li Lei"]])
    crm_site.login(page, crm_site.by_role["admin"], lang="en")
    page.goto(crm_site.url + "/app/lead/import")
    page.wait_for_selector("#file-form")
    page.set_input_files("#import-file", str(upload))
    page.click("#preview-button")
    page.wait_for_selector("#step-options:not([hidden]) #run-button:enabled")
    page.click("#run-button")
    page.wait_for_selector("#step-result:not([hidden])")
    assert page.inner_text("#counts dd[data-count=created]") == "1"
    assert page.is_disabled("#run-button")
    shot(page, "import-done-button-off")
    with crm_site.platform() as p:
        found = [r for r in p.records("lead").list(limit=1000) if r["company"] == f"{tag} 有限公司"]
    assert len(found) == 1
    page.click("#again-button")
    page.wait_for_selector("#step-options", state="hidden")
    assert page.is_enabled("#run-button")


def test_the_flow_palette_names_node_types_in_chinese(page, crm_site):
    admin = crm_site.by_role["admin"]
    with chinese(crm_site, admin):
        crm_site.login(page, admin)
        page.goto(f"{crm_site.url}/build/flows/quote_discount_approval")
        page.wait_for_selector("#flow-designer[data-ready=true]")
        titles = page.eval_on_selector_all("#palette .palette-item", "els => els.map(e => e.title)")
        assert titles and not [t for t in titles if "@" in t or t == "Webhook"], titles
        assert "网络钩子" in titles
        shot(page, "flow-palette-zh")

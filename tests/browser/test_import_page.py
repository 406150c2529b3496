"""The import page against a real ``tessera serve`` over the CRM demo: map, run, review, merge."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

from tests.browser.conftest import shot


def _csv(path, rows) -> None:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def test_an_admin_imports_leads_reviews_the_rejects_and_merges_a_duplicate(
    page, crm_site, tmp_path
):
    tag = "Imp" + uuid.uuid4().hex[:8]
    admin = crm_site.by_role["admin"]
    p = crm_site.platform()
    existing = p.records("lead").create(
        {"company": f"{tag} Existing 有限公司", "person_name": "Wang Fang",
         "email": f"wang.{tag.lower()}@example.com"}
    )  # fmt: skip
    rows = [
        ["Company", "Name", "E-mail", "Phone", "Source channel", "Remarks"],
        [f"{tag} Alpha Co., Ltd.", "Li Lei", f"li.{tag.lower()}@example.com", "", "Trade show",
         "met at the fair"],
        [f"{tag} Existing 公司", "Wang Fang", f"wang.{tag.lower()}@EXAMPLE.com",
         "+86 (21) 5555-0101", "展会", "second visit"],
        ["", "Nobody", f"nobody.{tag.lower()}@example.com", "", "", "no company"],
    ]  # fmt: skip
    upload = tmp_path / f"{tag}.csv"
    _csv(upload, rows)

    crm_site.login(page, admin, lang="en")
    page.goto(crm_site.url + "/app/lead")
    page.click("#import-link")
    page.wait_for_selector("#file-form")
    page.set_input_files("#import-file", str(upload))
    page.click("#preview-button")
    page.wait_for_selector("#step-mapping:not([hidden]) #mapping-table tbody tr")
    assert page.locator("#mapping-table tbody tr").count() == 6
    assert page.input_value('select[data-column="Company"]') == "company"
    assert page.input_value('select[data-column="Remarks"]') == ""  # matches no field
    # map the unknown column by hand; the sample is read again with the new mapping
    with page.expect_response(lambda r: "/preview" in r.url and r.status == 200):
        page.select_option('select[data-column="Remarks"]', "notes")
    page.wait_for_selector("#sample-table thead th:has-text('Notes')")
    sample = page.locator("#sample-table tbody tr").first.inner_text()
    assert f"li.{tag.lower()}@example.com" in sample and "Trade show" in sample
    second = page.locator("#sample-table tbody tr").nth(1).inner_text()
    assert "+862155550101" in second and f"wang.{tag.lower()}@example.com" in second
    shot(page, "import-mapping")

    page.check("input[name=policy][value=flag]")
    page.check("input[name=mode][value=valid]")
    page.click("#run-button")
    page.wait_for_selector("#step-result:not([hidden])")
    assert page.inner_text("#counts dd[data-count=flagged]") == "1"
    assert page.inner_text("#counts dd[data-count=rejected]") == "1"
    assert page.inner_text("#counts dd[data-count=created]") == "2"
    rejected = page.locator("#rejected-table tbody tr").first.inner_text()
    assert "4" in rejected and "Company" in rejected
    with page.expect_download() as info:
        page.click("#report-link")
    report = Path(info.value.path()).read_text(encoding="utf-8-sig")
    assert report.startswith("row,errors") and "no company" in report

    card = page.locator(".duplicate").first
    card.locator("table.side-by-side").wait_for()
    assert f"#{existing['id']}" in card.inner_text()
    shot(page, "import-result")
    flagged_id = int(card.get_attribute("data-id"))
    # a rep logs a call on the imported lead before the review: the merge moves it over
    call = p.records("follow_up").create(
        {"subject": f"{tag} first call", "kind": "call", "lead": flagged_id}
    )
    with page.expect_response(lambda r: "/duplicates/" in r.url and r.request.method == "POST"):
        card.locator("button[data-action=merge]").click()
    card.locator(".outcome:has-text('Merged')").wait_for()
    assert "1 related record moved to it." in card.locator(".outcome").inner_text()
    shot(page, "import-merged")
    assert p.records("follow_up").get(call["id"])["lead"] == existing["id"]

    merged = p.records("lead").get(existing["id"])
    assert merged["phone"] == "+862155550101" and merged["notes"] == "second visit"
    assert merged["company"] == f"{tag} Existing 有限公司"  # a variant keeps the original's
    assert p.records("lead").count(where=f"id == {flagged_id}") == 0

    page.click("#result-list-link")
    page.goto(crm_site.url + f'/app/lead?col=company&col=email&where=company contains "{tag}"')
    page.wait_for_selector("#records tbody tr")
    listed = page.locator("#records tbody tr")
    assert listed.count() == 2  # the merged original and the new lead; the duplicate is gone
    text = page.inner_text("#records tbody")
    assert f"{tag} Existing 有限公司" in text and f"{tag} Alpha Co., Ltd." in text
    shot(page, "import-list-after")

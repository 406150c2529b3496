"""The entity designer's live preview, section conditions and renames in a real browser.

The preview is the record form itself (the server's form templates, the draft's logic
compiled like ``/app/<entity>/form.js``, run by ``form.js``), so a condition on a field
added a moment ago hides and shows it as the user types; a section's "visible when" works
the same on the saved form, and its required fields are not asked for while it is hidden.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import shot


def _open(page, site, name: str) -> None:
    site.login(page, "admin")
    page.goto(f"{site.url}/build/entities/{name}")
    page.wait_for_selector("#palette [data-type=text]")


def _add_by_keyboard(page, field_type: str, key: str) -> None:
    """Add a field of ``field_type`` to the last section (Enter on the palette) and key it."""
    page.focus(f"#palette [data-type={field_type}]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#prop-key:not([disabled])")
    page.fill("#prop-key", key)
    page.locator("#prop-key").dispatch_event("change")
    page.wait_for_selector(f"#canvas .canvas-field.selected[data-key={key}]")


def _settled(page) -> None:
    """Wait until the preview shows the latest draft with its logic running."""
    page.wait_for_selector("#preview[data-live]:not([data-pending]) #preview-form")


def test_the_preview_reacts_to_conditions_and_the_saved_form_agrees(page, crm_site):
    _open(page, crm_site, "trip_plan")
    page.fill("#entity-label-en", "Trip plan")
    page.locator("#entity-label-en").dispatch_event("change")
    _add_by_keyboard(page, "select", "mode")
    page.fill("#prop-options", "car | Car | 汽车\nplane | Plane | 飞机")
    page.locator("#prop-options").dispatch_event("change")
    _add_by_keyboard(page, "text", "flight_no")
    page.fill("#prop-visible-when", "mode == 'plane'")
    page.locator("#prop-visible-when").dispatch_event("change")
    page.click("#add-section")
    page.wait_for_selector("#canvas ul.drop[data-section='1']")
    _add_by_keyboard(page, "text", "hotel")
    page.check("#prop-required")
    page.click(".section-when[data-section='1'] summary")
    page.fill(".section-when[data-section='1'] .section-when-text", "mode == 'plane'")

    _settled(page)
    flight = page.locator("#preview [data-field=flight_no]")
    stay = page.locator("#preview .form-section[data-section='1']")
    page.select_option("#preview #f-mode", "car")
    expect(flight).to_be_hidden()
    expect(stay).to_be_hidden()
    page.select_option("#preview #f-mode", "plane")
    expect(flight).to_be_visible()
    expect(stay).to_be_visible()
    page.fill("#preview #f-flight_no", "MU5101")
    shot(page, "designer-preview")

    page.click("#review")
    page.wait_for_selector("#plan-dialog[open] .step-create_table")
    page.click("#confirm-save")
    page.wait_for_selector(".toast:has-text('Saved version')")
    with crm_site.platform() as p:
        layout = p.meta.get("entity", "trip_plan")["definition"]["layout"]
    assert layout[1]["x-visible-when"] == "mode == 'plane'"

    # the saved form: the section hides for a car trip, and its required hotel is not asked for
    page.goto(crm_site.url + "/app/trip_plan/new")
    page.wait_for_selector("#record-form [data-field=mode]")
    page.select_option("#f-mode", "plane")
    expect(page.locator("#record-form .form-section[data-section='1']")).to_be_visible()
    page.select_option("#f-mode", "car")
    expect(page.locator("#record-form .form-section[data-section='1']")).to_be_hidden()
    expect(page.locator("#record-form [data-field=flight_no]")).to_be_hidden()
    page.click("#save")
    page.wait_for_url(re.compile(r"/app/trip_plan/\d+$"))
    with crm_site.platform() as p:
        (row,) = p.records("trip_plan").list()
    assert row["mode"] == "car" and row["hotel"] is None


def test_a_section_condition_with_the_condition_builder_on_a_saved_entity(page, crm_site):
    _open(page, crm_site, "product")
    page.click(".section-when[data-section='1'] summary")
    box = page.locator(".section-when[data-section='1']")
    box.locator(".cond-builder[data-ready]").wait_for()  # the fields menu has loaded
    box.locator(".cond-mode").click()
    box.locator(".cond-textarea").fill("category == 'service'")
    expect(box.locator(".cond-problems .valid")).to_be_visible()  # checked live
    _settled(page)
    described = page.locator("#preview .form-section[data-section='1']")
    page.select_option("#preview #f-category", "hardware")
    expect(described).to_be_hidden()
    page.select_option("#preview #f-category", "service")
    expect(described).to_be_visible()
    shot(page, "designer-section-condition")
    page.click("#undo")  # the condition goes again, nothing saved
    expect(box.locator("summary")).to_have_text(re.compile("Visible when"))
    with crm_site.platform() as p:
        layout = p.meta.get("entity", "product")["definition"]["layout"]
    assert "x-visible-when" not in layout[1]


def test_a_saved_field_is_renamed_and_keeps_its_data(page, crm_site):
    with crm_site.platform() as p:
        before = {r["id"]: r["unit"] for r in p.records("product").list()}
    assert any(before.values())
    _open(page, crm_site, "product")
    page.click("#canvas .canvas-field[data-key=unit]")
    assert page.is_disabled("#prop-key")  # the key is fixed; renaming is its own action
    assert "null" not in page.inner_text("#props-body")
    page.click("#prop-rename")
    page.fill("#prop-key", "sales_unit")
    page.locator("#prop-key").dispatch_event("change")
    page.wait_for_selector("#prop-renamed:has-text('unit')")
    expect(page.locator("#prop-rename")).to_have_count(0)  # one rename at a time
    assert not page.is_disabled("#prop-key")  # while pending it can still be put back
    page.click("#review")
    step = page.wait_for_selector("#plan-dialog[open] .step-rename[data-field=sales_unit]")
    assert "column kept" in step.text_content()
    assert (
        page.locator("#plan-dialog .step-add_column, #plan-dialog .step-soft_remove").count() == 0
    )
    shot(page, "designer-rename-plan")
    page.click("#confirm-save")
    page.wait_for_selector(".toast:has-text('Saved version')")
    with crm_site.platform() as p:
        after = {r["id"]: r["sales_unit"] for r in p.records("product").list()}
        assert "unit" not in p.entities.get("product").model.fields
    assert after == before


def test_undo_redo_and_a_warning_before_leaving_unsaved_changes(page, crm_site):
    _open(page, crm_site, "campaign")
    assert page.is_disabled("#undo") and page.is_disabled("#redo")
    fields = page.locator("#canvas .canvas-field")
    count = fields.count()
    _add_by_keyboard(page, "text", "undo_probe")
    page.fill("#entity-label-en", "Campaign (draft)")
    page.locator("#entity-label-en").dispatch_event("change")
    page.click("#undo")
    expect(page.locator("#entity-label-en")).to_have_value("Campaign")
    page.click("#undo")  # the new field, then its key, go again
    page.click("#undo")
    expect(fields).to_have_count(count)
    page.click("#redo")
    page.click("#redo")
    expect(page.locator("#canvas .canvas-field[data-key=undo_probe]")).to_have_count(1)
    page.click("#redo")
    expect(page.locator("#entity-label-en")).to_have_value("Campaign (draft)")
    expect(page.locator("#redo")).to_be_disabled()

    seen: list[str] = []

    def on_dialog(dialog) -> None:
        seen.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.click("nav.sidebar a.nav-home")
    for _ in range(100):  # poll for the browser's question, never a fixed pause
        if seen:
            break
        page.wait_for_timeout(100)
    assert seen == ["beforeunload"]
    assert "/build/entities/campaign" in page.url
    with crm_site.platform() as p:
        assert "undo_probe" not in p.entities.get("campaign").model.fields

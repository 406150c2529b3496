"""File fields and rich text in the record form, against a real ``tessera serve`` over the CRM."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from tests.browser.conftest import shot

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


def test_a_file_is_uploaded_saved_and_downloaded_and_rich_text_keeps_only_safe_html(page, crm_site):
    user = crm_site.by_role["marketing"]  # marketing writes the knowledge base
    crm_site.login(page, user, lang="en")
    page.goto(crm_site.url + "/app/knowledge_article/new")
    page.wait_for_selector("#record-form")
    title = f"Brochure {uuid.uuid4().hex[:6]}"
    page.fill("#f-title", title)
    page.select_option("#f-kind", "material")
    # the file uploads as soon as it is picked and shows its name with a remove button
    page.set_input_files(
        "#f-attachment",
        files=[{"name": "brochure.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    item = page.locator("[data-field=attachment] .file-list li")
    item.wait_for()
    assert item.locator(".file-link").inner_text() == "brochure.pdf"
    assert item.locator(".file-remove").is_visible()
    # a renamed program is refused by the server, on the field
    page.set_input_files(
        "#f-attachment",
        files=[{"name": "photo.pdf", "mimeType": "application/pdf", "buffer": b"MZ" + bytes(100)}],
    )
    error = page.locator("[data-error-for=attachment]")
    error.wait_for()
    assert error.inner_text()
    assert item.locator(".file-link").inner_text() == "brochure.pdf"  # the good one stays
    # rich text: bold from the toolbar, and a script smuggled into the editor
    editor = page.locator("[data-field=body] .rich-editor")
    editor.click()
    page.keyboard.type("Plain ")
    page.click("[data-field=body] .rich-toolbar button[data-cmd=bold]")
    page.keyboard.type("strong words")
    page.evaluate(
        """() => {
          const ed = document.querySelector('[data-field=body] .rich-editor');
          const p = document.createElement('p');
          p.textContent = 'after';
          const s = document.createElement('script');
          s.textContent = 'window.pwned = 1';
          const img = document.createElement('img');
          img.setAttribute('src', 'x');
          img.setAttribute('onerror', 'window.pwned = 2');
          const a = document.createElement('a');
          a.setAttribute('href', 'javascript:window.pwned = 3');
          a.textContent = 'bad link';
          ed.append(p, s, img, a);
          ed.dispatchEvent(new Event('input', { bubbles: true }));
        }"""
    )
    shot(page, "form-file")
    page.click("#save")
    page.wait_for_url(re.compile(r"/app/knowledge_article/\d+$"))
    page.wait_for_selector("#record-title")
    rich = page.locator("[data-field=body] .rich")
    assert rich.locator("b, strong").first.inner_text() == "strong words"
    html = rich.inner_html().lower()
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert page.evaluate("() => window.pwned === undefined")
    # the record page links the file; the download is the same bytes
    link = page.locator("[data-field=attachment] .file-download")
    assert link.inner_text() == "brochure.pdf"
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "brochure.pdf"
    assert Path(download.path()).read_bytes() == PDF
    with crm_site.platform() as p:
        (article,) = p.records("knowledge_article").list(where=f'title == "{title}"')
        assert "script" not in article["body"] and "<b>strong words</b>" in article["body"]
        assert p.files.read(article["attachment"])[1] == PDF
    # editing: the form shows the file and the formatted text; Remove takes the file out
    page.goto(f"{crm_site.url}/app/knowledge_article/{article['id']}/edit")
    page.wait_for_selector("#record-form")
    assert page.locator("[data-field=body] .rich-editor b").inner_text() == "strong words"
    assert page.locator("[data-field=attachment] .file-link").inner_text() == "brochure.pdf"
    page.click("[data-field=attachment] .file-remove")
    page.click("#save")
    page.wait_for_url(re.compile(r"/app/knowledge_article/\d+$"))
    page.wait_for_selector("#record-title")
    assert page.locator("[data-field=attachment] .file-download").count() == 0
    with crm_site.platform() as p:
        assert p.records("knowledge_article").get(article["id"])["attachment"] is None
        assert p.files.describe([article["attachment"]]) == {}

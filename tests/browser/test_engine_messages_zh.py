"""On Chinese pages the engine's own messages read in Chinese: the rule checker's diagnostic
in the filter builder, a unique value refused on its form field, a missing record's page,
the flow designer's check of a dangling step."""

from __future__ import annotations

import contextlib
import re

from tests.browser.conftest import shot

HAN = re.compile(r"[\u4e00-\u9fff]")


@contextlib.contextmanager
def chinese(site, user):
    """``user`` prefers Chinese for the test, then gets back whatever they had saved."""
    with site.platform() as p:
        before = p.users.settings.get(user, "lang")
        p.users.settings.set(user, "lang", "zh-CN")
    try:
        yield
    finally:
        with site.platform() as p:
            p.users.settings.set(user, "lang", before)


def test_the_filter_builders_checker_speaks_chinese(page, crm_site):
    manager = crm_site.by_role["sales_manager"]
    with chinese(crm_site, manager):
        crm_site.login(page, manager)
        page.goto(crm_site.url + "/app/opportunity")
        page.click("#filter-panel summary")
        page.wait_for_selector("#builder .cond-builder[data-ready]")
        page.click("#builder .cond-mode")
        page.fill("#where", 'stage == "wonn"')
        problems = page.locator("#where-problems li:not(.valid)").first
        problems.wait_for()
        page.wait_for_function(
            "() => /不是可选项之一/.test(document.querySelector('#where-problems').innerText)"
        )
        text = page.inner_text("#where-problems")
        assert "“wonn”不是可选项之一" in text and "won" in text
        page.fill("#where", "amount >")
        page.wait_for_function(
            "() => /文本过早结束/.test(document.querySelector('#where-problems').innerText)"
        )
        shot(page, "filter-checker-zh")


def test_a_unique_value_is_refused_on_its_field_in_chinese(page, crm_site):
    admin = crm_site.by_role["admin"]
    with crm_site.platform() as p:
        taken = p.records("product").list(limit=1)[0]["code"]
    with chinese(crm_site, admin):
        crm_site.login(page, admin)
        page.goto(crm_site.url + "/app/product/new")
        page.wait_for_selector("#record-form")
        page.fill("#f-code", taken)
        page.fill("#f-name", "重复编码的产品")
        page.click("#save")
        error = page.locator("[data-error-for=code]")
        error.wait_for()
        assert error.inner_text() == "此值已被另一条记录使用"
        shot(page, "form-unique-zh")
        assert page.url.endswith("/app/product/new")  # nothing saved, the form stays


def test_a_missing_record_page_says_so_in_chinese(page, crm_site):
    admin = crm_site.by_role["admin"]
    with chinese(crm_site, admin):
        crm_site.login(page, admin)
        response = page.goto(crm_site.url + "/app/opportunity/987654321")
        assert response.status == 404
        assert "opportunity 987654321 不存在" in page.inner_text("main")


def test_the_flow_designers_check_speaks_chinese(page, crm_site):
    """A dangling step drawn in the flow designer is reported in Chinese, on the step."""
    from tests.browser.test_flow_designer import _checked, _drop

    admin = crm_site.by_role["admin"]
    with chinese(crm_site, admin):
        page.set_viewport_size({"width": 1500, "height": 1200})
        crm_site.login(page, admin)
        page.goto(f"{crm_site.url}/build/flows/zh_check")
        page.wait_for_selector("#flow-designer[data-ready=true]")
        page.wait_for_selector("#palette [data-type=task]")
        _drop(page, "task", 520, 260, "task")
        _checked(page)
        problem = page.locator("#problems li[data-node=task]").first
        problem.wait_for()
        assert HAN.search(problem.inner_text()), problem.inner_text()
        listed = page.inner_text("#problems")
        assert "流程没有开始节点（type: start）" in listed
        assert "task 节点需要至少 1 条传入连线，现有 0 条" in listed
        shot(page, "flow-check-zh")

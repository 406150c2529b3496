"""The shell against a real ``tessera serve``: menus by role, search, language switch."""

from __future__ import annotations

from tests.browser.conftest import shot


def test_a_sales_rep_sees_their_menus_and_finds_a_record(page, crm_site):
    rep = crm_site.by_role["sales_rep"]
    crm_site.login(page, rep, lang="en")
    nav = page.inner_text("nav.sidebar")
    assert "Sales" in nav and "Leads" in nav
    assert "Analysis" not in nav  # that group is for directors, managers and finance
    assert "Sales by owner" not in nav
    assert page.inner_text("#roles") == "Sales rep"  # the role's label, not its key
    shot(page, "home")

    with crm_site.platform() as p:
        account = p.records("account", rep).list(limit=1, order_by="-id")[0]
    page.fill("header .search input", account["name"][:6])
    page.press("header .search input", "Enter")
    page.wait_for_selector(".search-group, #no-hits")
    link = f'.search-group[data-entity=account] a[href="/app/account/{account["id"]}"]'
    assert page.locator(link).count() == 1
    shot(page, "search")


def test_search_never_shows_records_outside_the_users_scope(page, crm_site):
    director = crm_site.by_role["sales_director"]
    rep = crm_site.by_role["sales_rep"]
    with crm_site.platform() as p:
        mine = {r["id"] for r in p.records("account", rep).list(limit=None)}
        others = [r for r in p.records("account", director).list(limit=None) if r["id"] not in mine]
    assert others, "the demo data has accounts the rep may not see"
    crm_site.login(page, rep, lang="en")
    target = others[0]
    page.goto(crm_site.url + "/search?q=" + target["name"])
    page.wait_for_selector("h1")
    assert page.locator(f'a[href="/app/account/{target["id"]}"]').count() == 0
    page.goto(crm_site.url + "/search?q=" + mine_name(crm_site, rep))
    assert page.locator(".search-group a").count() >= 1


def test_switching_to_chinese_changes_the_labels_and_is_remembered(page, crm_site):
    manager = crm_site.by_role["sales_manager"]
    crm_site.login(page, manager, lang="en")
    assert "Home" in page.inner_text("nav.sidebar")
    page.click("#switch-lang")
    page.wait_for_selector("text=首页")
    nav = page.inner_text("nav.sidebar")
    assert "销售" in nav and "线索" in nav and "Leads" not in nav
    assert page.inner_text("header form.signout button") == "退出登录"
    shot(page, "home-zh")
    page.click("header form.signout button")
    page.wait_for_url("**/login")
    crm_site.login(page, manager)  # no ?lang: the saved preference wins
    assert "首页" in page.inner_text("nav.sidebar")
    page.click("#switch-lang")  # back to English for the other tests
    page.wait_for_selector("text=Home")


def mine_name(site, user):
    with site.platform() as p:
        return p.records("account", user).list(limit=1)[0]["name"]


def test_a_missing_page_is_an_html_page_for_people_and_json_for_programs(page, crm_site):
    crm_site.login(page, crm_site.by_role["sales_rep"], lang="en")
    response = page.goto(crm_site.url + "/no/such/page")
    assert response.status == 404
    assert page.inner_text(".error-page h1") == "Not found"
    assert page.locator("nav.sidebar").count() == 1  # still inside the app's frame
    api = page.request.get(crm_site.url + "/api/v1/records/no_such_entity")
    assert api.status == 404
    assert api.headers["content-type"].startswith("application/problem+json")

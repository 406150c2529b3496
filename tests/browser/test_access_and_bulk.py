"""The rest of issue 8's list and security sentences in a real browser: bulk assign and
bulk delete, a view shared with the team, CSRF tokens on the page's forms, and a user
who loses access mid-session refused on the next request."""

from __future__ import annotations

import uuid

from tests.browser.test_lists import _opportunities


def _team_rep(site, manager):
    """A sales rep in ``manager``'s team (the demo's users report to their manager)."""
    with site.platform() as p:
        team = p.users.get(manager)["team"]
        return next(
            u["name"]
            for u in p.users.directory()
            if "sales_rep" in p.users.get(u["name"])["roles"]
            and p.users.get(u["name"])["team"] == team
        )


def test_bulk_assign_then_bulk_delete(page, crm_site):
    manager = crm_site.by_role["sales_manager"]
    rep = _team_rep(crm_site, manager)
    tag = "BA-" + uuid.uuid4().hex[:6]
    made = _opportunities(crm_site, manager, 2, tag)
    crm_site.login(page, manager, lang="en")
    page.goto(crm_site.url + f'/app/opportunity?where=name contains "{tag}"')
    assert page.locator("#records tbody tr").count() == 2
    page.check("#pick-all")
    page.wait_for_selector("#bulk:not([hidden])")
    page.select_option("#bulk-owner", rep)
    page.click("#bulk-assign")
    page.wait_for_selector("#bulk-report li.summary:has-text('2 done, 0 refused')")
    with crm_site.platform() as p:
        assert {p.records("opportunity").get(r["id"])["owner"] for r in made} == {rep}

    page.reload()
    page.check("#pick-all")
    page.wait_for_selector("#bulk:not([hidden])")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#bulk-delete")
    page.wait_for_selector("#bulk-report li.summary:has-text('2 done, 0 refused')")
    with crm_site.platform() as p:
        assert p.records("opportunity").count(where=f'name contains "{tag}"') == 0


def test_a_shared_view_is_offered_to_the_team_and_a_personal_one_is_not(page, crm_site):
    manager = crm_site.by_role["sales_manager"]
    rep = crm_site.by_role["sales_rep"]
    tag = uuid.uuid4().hex[:6]
    crm_site.login(page, manager, lang="en")
    for name, shared in ((f"Team {tag}", True), (f"Mine {tag}", False)):
        page.goto(crm_site.url + "/app/opportunity?sort=-amount")
        page.click("#filter-panel summary")  # the view form sits in the filter panel
        page.fill("#view-name", name)
        if shared:
            page.check("#view-shared")
        page.click("#save-view-button")
        page.wait_for_url("**view=**")
    page.click("header form.signout button")
    page.wait_for_url("**/login")
    crm_site.login(page, rep, lang="en")
    page.goto(crm_site.url + "/app/opportunity")
    offered = page.locator("#view-select option").all_inner_texts()
    assert any(f"Team {tag}" in o and "shared" in o for o in offered)
    assert not any(f"Mine {tag}" in o for o in offered)


def test_every_form_carries_the_csrf_token_and_a_write_without_it_is_refused(page, crm_site):
    manager = crm_site.by_role["sales_manager"]
    crm_site.login(page, manager, lang="en")
    with crm_site.platform() as p:
        opp = p.records("opportunity", manager).list(limit=1)[0]["id"]
    for path in ("/", "/app/opportunity", f"/app/opportunity/{opp}", "/tasks"):
        page.goto(crm_site.url + path)
        forms = page.locator("form[method=post], form[method=POST]")
        for i in range(forms.count()):
            assert forms.nth(i).locator("input[name=csrf_token]").count() == 1, (path, i)
    refused = page.request.post(
        crm_site.url + f"/app/opportunity/{opp}/comments", form={"body": "no token"}
    )
    assert refused.status == 403 and "CSRF" in refused.text()


def test_a_user_who_loses_access_is_refused_on_the_next_request(page, crm_site):
    name = "leaver_" + uuid.uuid4().hex[:6]
    with crm_site.platform() as p:
        p.users.add(name, password="leaver-secret-1", roles=["sales_rep"], team="shanghai")
    page.goto(crm_site.url + "/login?lang=en")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", "leaver-secret-1")
    page.click("button[type=submit]")
    page.wait_for_selector("#who")
    assert page.goto(crm_site.url + "/app/opportunity").status == 200

    with crm_site.platform() as p:  # the role goes: the list is refused at once
        p.users.update(name, roles=[])
    assert page.goto(crm_site.url + "/app/opportunity").status == 403

    with crm_site.platform() as p:  # the account is switched off: back to the sign-in page
        p.users.update(name, active=False)
    page.goto(crm_site.url + "/app/opportunity")
    assert "/login" in page.url

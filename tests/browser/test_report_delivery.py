"""The report page's delivery card against a real ``tessera serve``: a background run that
the worker completes while the page waits, and an e-mail schedule made, refused and stopped."""

from __future__ import annotations

from tests.browser.conftest import shot

REPORT = "lead_sources"


def test_run_in_background_then_schedule_an_email(page, crm_site):
    director = crm_site.by_role["sales_director"]
    crm_site.login(page, director, lang="en")
    page.goto(crm_site.url + f"/reports/{REPORT}")
    page.wait_for_selector("#report[data-state=ready]")
    page.wait_for_selector("#report-delivery[data-schedules]")

    # Background: queued until a worker tick runs it, then the stored result is drawn.
    with page.expect_response(lambda r: r.url.endswith("/background") and r.status == 202):
        page.click("#run-background")
    page.wait_for_selector("#report-delivery[data-run=queued]")
    assert "Queued" in page.inner_text("#background-status")
    with crm_site.platform() as p:
        tick = p.jobs.run_due()
        expected = p.reports.run(REPORT, user=director)
    assert tick.delivered >= 1
    page.wait_for_selector("#report-delivery[data-run=done]", timeout=30000)
    assert "stored result" in page.inner_text("#background-status")
    leaves = page.locator("#report-table tbody tr.leaf").count()
    assert leaves == sum(
        1 for r in expected["rows"] if r["level"] == len(expected["row_dimensions"])
    )

    # A schedule with no recipient is refused, the error shown at the recipients field.
    page.select_option("#schedule-form select[name=every]", "weekly")
    assert page.is_visible("#schedule-form select[name=weekday]")
    page.select_option("#schedule-form select[name=weekday]", "0")
    page.click("#schedule-form button[type=submit]")
    error = page.wait_for_selector('#schedule-form .field-error[data-for="users"]')
    assert "at least one" in error.inner_text()
    assert page.get_attribute("#schedule-form select[name=users]", "aria-invalid") == "true"

    page.select_option("#schedule-form select[name=users]", [director])
    page.select_option("#schedule-form select[name=format]", "xlsx")
    with page.expect_response(lambda r: r.url.endswith("/schedules") and r.status == 201):
        page.click("#schedule-form button[type=submit]")
    page.wait_for_selector("#report-delivery[data-schedules='1']")
    item = page.inner_text("#schedule-list li")
    assert "every week" in item and "Monday" in item and "XLSX" in item and director in item
    page.locator("#report-delivery").scroll_into_view_if_needed()
    shot(page, "report-delivery")
    with crm_site.platform() as p:
        from engine.reports.schedule import for_report

        (saved,) = for_report(p, REPORT, user=director)
    assert saved["every"] == "weekly" and saved["weekday"] == 0 and saved["users"] == [director]

    # The card in Chinese, then the schedule stopped.
    page.context.clear_cookies()  # signed out, so the sign-in form shows again
    crm_site.login(page, director, lang="zh-CN")
    page.goto(crm_site.url + f"/reports/{REPORT}")
    page.wait_for_selector("#report-delivery[data-schedules='1']")
    assert page.inner_text("#run-background") == "后台运行"
    assert "每周" in page.inner_text("#schedule-list li")
    shot(page, "report-delivery-zh")
    with page.expect_response(lambda r: "/report-schedules/" in r.url and r.status == 204):
        page.click("#schedule-list button.remove")
    page.wait_for_selector("#report-delivery[data-schedules='0']")

"""The flow designer in a real browser: an admin draws a two-level discount approval on
quotes by dragging node types from the palette and connecting ports, sees the error on a
dangling step, fixes it, dry-runs and publishes; a rep's quote takes the manager path and
the instance page shows it; a third-party node type gets its palette entry and form."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.browser.conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect


def _open(page, site, name: str) -> None:
    page.set_viewport_size({"width": 1500, "height": 1200})
    site.login(page, "admin")
    page.goto(f"{site.url}/build/flows/{name}")
    page.wait_for_selector("#flow-designer[data-ready=true]")
    page.wait_for_selector("#palette [data-type=sms_notice]")


def _centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _drop(page, node_type: str, x: int, y: int, cell: str) -> None:
    """Drag a palette entry to (x, y) of the canvas with the mouse; wait for the new node."""
    canvas = page.locator("#flow-canvas").bounding_box()
    sx, sy = _centre(page.locator(f"#palette [data-type={node_type}]"))
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(sx + 10, sy + 5, steps=3)
    page.mouse.move(canvas["x"] + x, canvas["y"] + y, steps=15)
    page.mouse.up()
    page.wait_for_selector(f'#flow-canvas [data-cell-id="{cell}"]')
    # the new node is selected: its properties are shown
    page.wait_for_selector(f"#node-key[value={cell}]")


def _connect(page, source: str, target: str) -> None:
    """Drag from the source's out port to the target's in port."""
    out_port = page.locator(f'#flow-canvas [data-cell-id="{source}"] [port-group="out"]').first
    in_port = page.locator(f'#flow-canvas [data-cell-id="{target}"] [port-group="in"]').first
    out_port.wait_for()
    in_port.wait_for()
    before = page.locator("#flow-canvas .x6-edge").count()
    sx, sy = _centre(out_port)
    tx, ty = _centre(in_port)
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2 + 3, steps=8)
    page.mouse.move(tx, ty, steps=8)
    page.mouse.up()
    expect(page.locator("#flow-canvas .x6-edge")).to_have_count(before + 1)


def _checked(page) -> None:
    """Wait until the check answering the latest change has come back."""
    page.wait_for_function(
        "() => { const r = document.getElementById('flow-designer');"
        " return r.dataset.checked && !document.getElementById('check-status')"
        ".textContent.includes('…'); }"
    )


def _rename(page, key: str, label: str) -> None:
    page.fill("#node-key", key)
    page.locator("#node-key").dispatch_event("change")
    page.fill("#node-label-en", label)


def test_an_admin_draws_publishes_and_a_rep_follows(page, browser, crm_site):
    name = "two_level_" + uuid.uuid4().hex[:6]
    _open(page, crm_site, name)
    page.fill("#flow-label-en", "Two-level discount approval")
    page.fill("#flow-label-zh", "两级折扣审批")
    page.select_option("#flow-entity", "quote")
    # it starts by itself when a quote is created whose notes carry this test's tag,
    # the condition drawn with the condition builder
    page.check(".trigger-on input[value=created]")
    trigger = page.locator("#trigger-when")
    trigger.locator(".cond-builder[data-ready=true]").wait_for()
    trigger.locator(".cond-add-row").first.click()
    row = trigger.locator(".condition").first
    row.locator(".cond-field").select_option("notes")
    row.locator(".cond-op").select_option("contains")
    row.locator(".cond-value").fill(name)

    _drop(page, "start", 60, 200, "start")
    _drop(page, "exclusive", 220, 190, "exclusive")
    _drop(page, "approval", 380, 120, "approval")
    _rename(page, "manager", "Manager approves")
    page.select_option("#f-config-approvers-kind", "role")
    page.select_option(".who-role", "sales_manager")
    _drop(page, "approval", 580, 120, "approval_2")
    _rename(page, "director", "Director approves")
    page.select_option("#f-config-approvers-kind", "role")
    page.select_option(".who-role", "sales_director")
    _drop(page, "end", 560, 320, "end")

    _connect(page, "start", "exclusive")
    _connect(page, "exclusive", "approval")
    # the new edge is selected: write its condition as text
    page.wait_for_selector("#edge-condition .cond-builder[data-ready=true]")
    page.click("#edge-condition .cond-mode")
    page.locator("#edge-condition textarea").fill("discount > 0.1")
    _connect(page, "exclusive", "end")
    page.check("#edge-default")
    _connect(page, "approval", "approval_2")

    # the director step leads nowhere yet: marked on the canvas and listed, publish disabled
    _checked(page)
    director_problem = page.locator("#problems li[data-node=director]").first
    expect(director_problem).to_be_visible()
    expect(page.locator("#publish")).to_be_disabled()
    stroke = page.locator('#flow-canvas [data-cell-id="approval_2"] [fill]').first
    assert "#c0392b" in (stroke.get_attribute("stroke") or "")
    shot(page, "flow-designer-error")
    director_problem.click()
    expect(page.locator("#node-key")).to_have_value("director")
    expect(page.locator("#item-errors li").first).to_be_visible()

    _connect(page, "approval_2", "end")
    _checked(page)
    expect(page.locator("#no-problems")).to_be_visible()

    # Delete removes the selected step with its edges; Ctrl+Z and Redo bring the edit back
    edges = page.locator("#flow-canvas .x6-edge")
    director = page.locator('#flow-canvas .x6-node[data-cell-id="approval_2"]')
    director.click()
    expect(page.locator("#node-key")).to_have_value("director")
    page.locator("#props-title").click()  # out of the fields: keys act on the canvas
    page.keyboard.press("Delete")
    expect(director).to_have_count(0)
    expect(edges).to_have_count(3)
    page.keyboard.press("Control+z")
    expect(director).to_have_count(1)
    expect(edges).to_have_count(5)
    page.keyboard.press("Control+Shift+z")
    expect(director).to_have_count(0)
    page.click("#undo")
    expect(director).to_have_count(1)
    expect(page.locator("#redo")).to_be_enabled()
    page.click("#redo")
    expect(director).to_have_count(0)
    page.click("#undo")
    expect(director).to_have_count(1)
    expect(edges).to_have_count(5)
    _checked(page)
    expect(page.locator("#no-problems")).to_be_visible()
    expect(page.locator("#publish")).to_be_enabled()
    page.click("#auto-layout")

    # dry run on typed values: the manager path, and who would be asked
    page.fill("#dry-values", json.dumps({"discount": 0.15}))
    page.click("#dry-go")
    page.wait_for_selector("#dry-result li[data-node=manager]")
    expect(page.locator("#dry-result li[data-node=manager]")).to_contain_text("sales_manager")
    assert (
        page.locator("#flow-designer")
        .get_attribute("data-dry-path")
        .startswith("start,exclusive,manager,director")
    )
    # the manager rejects: the flow ends there, the director is not asked
    page.select_option("#dry-result select.dry-outcome[data-node=manager]", "reject")
    page.wait_for_selector("#dry-result .dry-ending[data-ending=rejected]")
    assert page.locator("#flow-designer").get_attribute("data-dry-path") == (
        "start,exclusive,manager"
    )
    page.select_option("#dry-result select.dry-outcome[data-node=manager]", "approve")
    page.wait_for_selector("#dry-result li[data-node=director]")
    shot(page, "flow-designer-dry-run")

    page.click("#publish")
    expect(page.locator("#base-version")).to_contain_text("1")
    with crm_site.platform() as p:
        published = p.meta.get("flow", name)["definition"]
    assert published["entity"] == "quote"
    assert published["trigger"] == {"on": ["created"], "when": f'notes contains "{name}"'}
    assert published["nodes"]["manager"]["config"]["approvers"] == {"role": "sales_manager"}
    assert {"from": "exclusive", "to": "manager", "when": "discount > 0.1"} in published["edges"]
    assert {"from": "exclusive", "to": "end", "default": True} in published["edges"]
    assert all("position" in n for n in published["nodes"].values())
    shot(page, "flow-designer-published")

    # a rep saves a quote with a 15% discount in the form: the trigger starts the flow,
    # which takes the manager path
    rep = crm_site.by_role["sales_rep"]
    with crm_site.platform() as p:
        opp = p.records("opportunity", rep).list(limit=1, order_by="id")[0]
    rep_page = browser.new_context().new_page()
    rep_page.set_viewport_size({"width": 1400, "height": 1000})
    crm_site.login(rep_page, rep)
    rep_page.goto(f"{crm_site.url}/app/quote/new")
    rep_page.wait_for_selector("#record-form")
    rep_page.fill("#f-opportunity", opp["name"])
    rep_page.locator(f'#f-opportunity-list li[data-id="{opp["id"]}"]').click()
    rep_page.fill("#f-discount", "0.15")
    rep_page.fill("#f-notes", f"Please approve ({name})")
    rep_page.click("#save")
    rep_page.wait_for_url(re.compile(r"/app/quote/\d+$"))
    quote_id = int(rep_page.url.rsplit("/", 1)[1])
    with crm_site.platform() as p:
        mine = [i for i in p.flows.instances(started_by=rep) if i["flow"] == name]
    assert [(i["record_id"], i["flow_version"]) for i in mine] == [(quote_id, 1)]
    instance = mine[0]
    # the rep follows the request from the tasks page to the instance view
    rep_page.goto(f"{crm_site.url}/tasks?tab=requests")
    rep_page.click(f'tr.request[data-instance="{instance["id"]}"] a.instance-link')
    rep_page.wait_for_url(f"**/flows/instances/{instance['id']}")
    diagram = rep_page.locator("#flow-diagram")
    expect(diagram.locator("[data-node=manager]")).to_have_attribute("data-state", "current")
    expect(diagram.locator("[data-node=director]")).to_have_attribute("data-state", "pending")
    expect(diagram.locator(".edge.taken[data-from=exclusive][data-to=manager]")).to_have_count(1)
    expect(diagram.locator(".edge.taken[data-from=exclusive][data-to=end]")).to_have_count(0)
    expect(rep_page.locator("#steps")).to_contain_text("Manager approves")
    shot(rep_page, "flow-instance-view")
    rep_page.context.close()

    # the designer counts the running instance on version 1
    page.reload()
    page.wait_for_selector("#versions-body tr[data-version='1']")
    expect(page.locator("#versions-body tr[data-version='1'] .running")).to_have_text("1")


def test_a_plugin_node_type_is_in_the_palette_with_its_form(page, crm_site):
    _open(page, crm_site, "plugin_probe")
    item = page.locator("#palette [data-type=sms_notice]")
    expect(item).to_contain_text("SMS notice")
    _drop(page, "sms_notice", 300, 200, "sms_notice")
    form = page.locator(".node-config[data-type=sms_notice]")
    expect(form.locator("#f-config-phone_field")).to_be_visible()
    expect(form.locator("#f-config-template")).to_be_visible()
    expect(form.locator("#f-config-priority option")).to_have_count(4)
    expect(form.locator("#f-config-retries")).to_have_attribute("type", "number")
    expect(form.locator("#f-config-quiet_hours")).to_be_checked()
    form.locator("#f-config-template").fill("Quote {quote_no} approved")
    _checked(page)
    # the schema's own rules come back from the server, located on the node
    expect(page.locator("#problems li[data-node=sms_notice]").first).to_be_visible()
    shot(page, "flow-designer-plugin-node")

    # zoom moves the canvas's viewport
    viewport = page.locator("#flow-canvas .x6-graph-svg-viewport")
    before = viewport.get_attribute("transform")
    page.click("#zoom-in")
    expect(viewport).not_to_have_attribute("transform", before or "")

    # an approval's picker: a manager two levels up, everyone must approve, escalation;
    # the draft the page sends to the checker carries them in the engine's own words
    _drop(page, "approval", 300, 330, "approval")
    page.select_option("#f-config-approvers-kind", "manager_of")
    page.locator(".who-levels").fill("2")
    page.select_option("#f-config-mode", '"all"')
    with page.expect_request(
        lambda r: r.url.endswith("/check") and '"escalate"' in (r.post_data or "")
    ) as sent:
        page.select_option("#f-config-timeout-action", '"escalate"')
    config = sent.value.post_data_json["definition"]["nodes"]["approval"]["config"]
    assert config["approvers"] == {"manager_of": "initiator", "levels": 2}
    assert config["mode"] == "all" and config["timeout"]["action"] == "escalate"

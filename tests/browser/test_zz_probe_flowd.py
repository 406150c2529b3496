from tests.browser.conftest import shot
from tests.browser.test_flow_designer import _open, _centre

def test_probe(page, crm_site):
    msgs = []
    page.on("console", lambda m: msgs.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: msgs.append(f"pageerror: {e}"))
    _open(page, crm_site, "probe_x")
    canvas = page.locator("#flow-canvas").bounding_box()
    sx, sy = _centre(page.locator("#palette [data-type=start]"))
    page.mouse.move(sx, sy); page.mouse.down(); page.mouse.move(sx + 10, sy + 5, steps=3)
    page.mouse.move(canvas["x"] + 60, canvas["y"] + 200, steps=15); page.mouse.up()
    page.wait_for_timeout(1500)
    print(page.evaluate("document.querySelector('#flow-canvas').innerHTML.slice(0, 3000)"))
    print(page.locator("#props-body").inner_text()[:300])
    page.locator('[data-cell-id="start"]').click()
    page.wait_for_timeout(500)
    print(page.locator("#props-body").inner_text()[:300])
    shot(page, "probe-drop")
    print("\n".join(msgs))

"""The harness the page tests of the browser app stand on: a real page over real HTTP.

Until the Flask app lands, this serves a small page from a local HTTP server and
clicks it, proving chromium, Playwright and loopback HTTP work where CI runs.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

PAGE = b"""<!doctype html><meta charset="utf-8"><title>harness</title>
<button id="go" onclick="document.getElementById('out').textContent='clicked'">Go</button>
<p id="out"></p>"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def test_chromium_loads_and_clicks_a_local_page(page, server_url):
    page.goto(server_url)
    assert page.title() == "harness"
    page.click("#go")
    assert page.text_content("#out") == "clicked"

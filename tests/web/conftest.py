"""A real HTTP server per test (werkzeug on a free loopback port) and a small client for it."""

from __future__ import annotations

import http.cookiejar
import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest
from werkzeug.serving import make_server

from web.app import create_app


class Client:
    """JSON over real HTTP, with its own cookie jar (a browser) and optional bearer token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.token: str | None = None
        self.csrf: str | None = None

    def call(
        self,
        method: str,
        path: str,
        data: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        payload = raw if raw is not None else (None if data is None else json.dumps(data).encode())
        request = urllib.request.Request(self.base + path, data=payload, method=method)
        if payload is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if self.csrf and method not in ("GET", "HEAD"):
            request.add_header("X-CSRF-Token", self.csrf)
        for k, v in (headers or {}).items():
            request.add_header(k, v)
        try:
            with self.opener.open(request) as response:
                status, content, hdrs = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            status, content, hdrs = exc.code, exc.read(), dict(exc.headers)
        kind = hdrs.get("Content-Type", "")
        parsed = json.loads(content) if "json" in kind and content else content
        return status, parsed, hdrs

    def get(self, path: str, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.call("GET", path, **kw)

    def post(self, path: str, data: Any = None, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.call("POST", path, data, **kw)

    def patch(self, path: str, data: Any = None, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.call("PATCH", path, data, **kw)

    def delete(self, path: str, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.call("DELETE", path, **kw)

    def login(self, username: str, password: str) -> int:
        status, answer, _ = self.post("/login", {"username": username, "password": password})
        if status == 200:
            self.csrf = answer["csrf_token"]
        return status


@pytest.fixture
def server(platform):
    app = create_app(platform, config={"SECRET_KEY": "test-secret"})
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)


@pytest.fixture
def client(server):
    return Client(server)


@pytest.fixture
def new_client(server):
    return lambda: Client(server)

"""The per-request plumbing made cheaper for the load bench keeps its behaviour.

The session's signing serializer is built once per secret key (not per
request), so a changed key must still refuse the cookies the old key signed;
the security headers are added in one pass, so a header a view set itself
must still win over the default.
"""

from __future__ import annotations

from flask import Response

from web.app import create_app


def _signed_in(app):
    client = app.test_client()
    reply = client.post("/login", json={"username": "root", "password": "root-secret"})
    assert reply.status_code == 200
    return client


def test_a_changed_secret_key_refuses_the_old_cookies(platform):
    platform.users.add("root", password="root-secret", roles=["admin"])
    app = create_app(platform, config={"SECRET_KEY": "first"})
    client = _signed_in(app)
    assert client.get("/api/v1/auth/session").get_json()["user"]["name"] == "root"
    assert client.get("/api/v1/auth/session").get_json()["user"]["name"] == "root"
    app.secret_key = "second"
    assert client.get("/api/v1/auth/session").get_json().get("user") is None
    app.config["SECRET_KEY_FALLBACKS"] = ["first"]  # a rotated key still reads old cookies
    assert client.get("/api/v1/auth/session").get_json()["user"]["name"] == "root"


def test_security_headers_are_added_unless_the_view_set_them(platform):
    app = create_app(platform, config={"SECRET_KEY": "k"})

    @app.get("/own-frame-options")
    def _own() -> Response:
        return Response("x", headers={"x-frame-options": "SAMEORIGIN"})

    reply = app.test_client().get("/own-frame-options")
    assert reply.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "same-origin"
    assert "default-src 'self'" in reply.headers["Content-Security-Policy"]
    plain = app.test_client().get("/healthz")
    assert plain.headers["X-Frame-Options"] == "DENY"

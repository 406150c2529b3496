"""Public web forms through Flask's test client: token, rate limit, honeypot, admin API, checks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from web.app import create_app

LEAD: dict[str, Any] = {
    "name": "lead",
    "label": {"en": "Lead", "zh-CN": "线索"},
    "schema": {
        "type": "object",
        "required": ["company"],
        "properties": {
            "company": {"type": "string", "maxLength": 100, "x-label": {"en": "Company"}},
            "email": {"type": "string", "format": "email", "x-label": {"en": "E-mail"}},
            "size": {"type": "integer", "minimum": 0},
            "source": {"type": "string", "enum": ["website", "other"]},
            "score": {"type": "integer", "readOnly": True},
        },
    },
}

FORM: dict[str, Any] = {
    "name": "contact",
    "label": {"en": "Contact us", "zh-CN": "联系我们"},
    "entity": "lead",
    "fields": ["company", {"field": "email", "required": True}, "size"],
    "fixed": {"source": "website"},
    "thanks": {"en": "Thanks, we got it.", "zh-CN": "已收到，谢谢。"},
    "enabled": True,
    "rate_limit": 3,
}


@pytest.fixture
def p(platform):
    platform.meta.save("entity", "lead", LEAD)
    platform.users.add("root", password="root-secret-1", roles=["admin"])
    platform.users.add("ann", password="ann-secret-1", roles=["sales_rep"])
    platform.webforms.save("contact", FORM)
    return platform


@pytest.fixture
def web(p):
    return create_app(p, config={"SECRET_KEY": "test-secret"}).test_client()


def _token(web, name: str = "contact") -> str:
    page = web.get(f"/f/{name}").get_data(as_text=True)
    return re.search(r'name="form_token" value="([^"]+)"', page).group(1)


def _send(web, token: str | None, addr: str = "10.0.0.1", **values: Any):
    data = {**values}
    if token is not None:
        data["form_token"] = token
    return web.post("/f/contact", data=data, environ_base={"REMOTE_ADDR": addr})


def _leads(p) -> list[dict[str, Any]]:
    return p.records("lead").list(limit=None)


def test_a_submission_is_saved_with_the_fixed_values_and_only_thanks_shown(p, web):
    response = _send(web, _token(web), company="<script>alert(1)</script>", email="a@b.cn")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Thanks, we got it." in page
    (lead,) = _leads(p)
    assert lead["source"] == "website" and lead["company"] == "<script>alert(1)</script>"
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    text = " ".join(re.sub(r"<[^>]+>", " ", main.split(">", 1)[1]).split())
    assert text == "Contact us Thanks, we got it."  # no record number, score or owner


def test_validation_errors_are_shown_escaped_on_their_fields(p, web):
    response = _send(web, _token(web), company="<b>x</b>", email="nope", size="many")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="pf-email-error">Enter a valid e-mail address.' in page
    assert 'id="pf-size-error">Enter a number.' in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert _leads(p) == []


def test_the_rate_limit_answers_429_after_the_allowed_number(p, web):
    token = _token(web)
    for i in range(3):
        assert _send(web, token, company=f"Co {i}", email=f"a{i}@b.cn").status_code == 200
    refused = _send(web, token, company="Co 4", email="a4@b.cn")
    assert refused.status_code == 429
    assert "Please wait a minute" in refused.get_data(as_text=True)
    # another address has its own allowance; the count lives in the database
    assert _send(web, token, addr="10.0.0.2", company="Co 5", email="a5@b.cn").status_code == 200
    assert len(_leads(p)) == 4


def test_a_missing_forged_or_expired_token_is_refused(p, web, monkeypatch):
    assert _send(web, None, company="A", email="a@b.cn").status_code == 400
    assert _send(web, "forged.token.value", company="A", email="a@b.cn").status_code == 400
    other = create_app(p, config={"SECRET_KEY": "another-site"}).test_client()
    assert _send(web, _token(other), company="A", email="a@b.cn").status_code == 400
    import web.ui.public as public

    token = _token(web)
    monkeypatch.setattr(public, "TOKEN_MAX_AGE", -1)
    expired = _send(web, token, company="A", email="a@b.cn")
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)
    assert _leads(p) == []


def test_a_filled_honeypot_saves_nothing_but_thanks_the_bot(p, web):
    response = _send(web, _token(web), company="Spam", email="s@b.cn", homepage_url="http://x")
    assert response.status_code == 200 and "Thanks, we got it." in response.get_data(as_text=True)
    assert _leads(p) == []


def test_a_too_large_body_is_refused(p, web):
    response = _send(web, _token(web), company="A", email="a@b.cn", notes="x" * 70_000)
    assert response.status_code == 413
    assert _leads(p) == []


def test_the_form_page_is_never_cached(web):
    assert web.get("/f/contact").headers["Cache-Control"] == "no-store"


def test_a_disabled_or_unknown_form_is_not_found(p, web):
    assert web.get("/f/nothing").status_code == 404
    p.webforms.disable("contact")
    assert web.get("/f/contact").status_code == 404


def _auth(p, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {p.users.create_token(user)['token']}"}


def test_the_admin_api_is_for_admins_only(p, web):
    assert web.get("/api/v1/webforms").status_code == 401
    ann = _auth(p, "ann")
    assert web.get("/api/v1/webforms", headers=ann).status_code == 403
    new = {**FORM, "name": "newsletter", "fields": ["company", "email"]}
    assert web.post("/api/v1/webforms", json=new, headers=ann).status_code == 403
    root = _auth(p, "root")
    listed = web.get("/api/v1/webforms", headers=root).get_json()
    assert [f["name"] for f in listed["items"]] == ["contact"]
    created = web.post("/api/v1/webforms", json=new, headers=root)
    assert created.status_code == 201 and created.get_json()["url"] == "/f/newsletter"
    assert web.post("/api/v1/webforms", json=new, headers=root).status_code == 409
    changed = {**new, "thanks": "Subscribed."}
    assert web.put("/api/v1/webforms/newsletter", json=changed, headers=root).status_code == 200
    assert web.get("/f/newsletter").status_code == 200
    assert web.post("/api/v1/webforms/newsletter/disable", headers=root).status_code == 200
    assert web.get("/f/newsletter").status_code == 404
    assert web.post("/api/v1/webforms/newsletter/disable", headers=ann).status_code == 403


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ({"entity": "leed"}, "entity", "entity 'leed' is neither in this bundle nor installed"),
        ({"fields": ["company", "emial"]}, "fields.1", "lead has no field 'emial'"),
        ({"fields": ["company", "score"]}, "fields.1", "lead.score is read-only"),
        ({"fixed": {"score": 1}}, "fixed.score", "lead.score is read-only"),
        ({"fixed": {"owner": "ann"}}, "fixed.owner", "maintained by the engine"),
        ({"fields": ["email"]}, "fields", "lead.company is required"),
        ({"submit_as": "nobody"}, "submit_as", "no active user"),
    ],
)
def test_a_bad_definition_gets_located_errors(p, web, change, where, message):
    bad = {**FORM, "name": "bad", **change}
    response = web.post("/api/v1/webforms", json=bad, headers=_auth(p, "root"))
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    hits = [e for e in errors if message in e["message"]]
    assert hits, errors
    if where != "submit_as":
        assert hits[0]["line"] and hits[0]["file"] == "webform:bad"
    assert "bad" not in p.webforms.all()


def test_a_signed_in_user_can_send_the_form_too(p, web):
    """The session's CSRF check applies to staff trying the form; the page carries the token."""
    signed_in = web.post("/login", json={"username": "ann", "password": "ann-secret-1"})
    assert signed_in.status_code == 200
    page = web.get("/f/contact").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    fields = dict(re.findall(r'name="(form_token|csrf_token)" value="([^"]+)"', page))
    response = web.post("/f/contact", data={**fields, "company": "Staff test", "email": "s@b.cn"})
    assert response.status_code == 200
    assert [lead["company"] for lead in _leads(p)] == ["Staff test"]


def test_submit_as_saves_as_that_user_and_a_refusal_reveals_nothing(p, web):
    p.webforms.save("contact", {**FORM, "submit_as": "root"})
    assert _send(web, _token(web), company="As root", email="r@b.cn").status_code == 200
    (lead,) = _leads(p)
    assert lead["created_by"] == "root"
    p.webforms.save("contact", {**FORM, "submit_as": "ann"})  # no permission to create leads
    refused = _send(web, _token(web), company="As ann", email="a@b.cn")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 503 and "cannot take submissions" in page
    assert "may not" not in page and "lead" not in page.lower() and len(_leads(p)) == 1

"""The OpenAPI document describes every ``/api/v1`` route the app serves, and nothing else.

The app's URL map is the truth: a route added by any module (a builder's new
endpoint included) fails here, naming its method and path, until it is described
in ``web/openapi_paths.py`` or by its module's ``openapi_paths(platform)``.
"""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from tests.floor_defs import ACCOUNT, CONTACT, save
from web.app import create_app
from web.openapi import openapi_document

#: Routes under /api/v1 that are deliberately not in the document. Keep it empty; a
#: route belongs here only with a reason a reader of the API would accept.
NOT_DOCUMENTED: dict[tuple[str, str], str] = {}

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _segments(path: str) -> list[str | None]:
    """A path's segments, ``None`` for a variable (Flask ``<x>`` or OpenAPI ``{x}``)."""
    return [
        None if re.fullmatch(r"<[^>]+>|\{[^}]+\}", part) else part
        for part in path.strip("/").split("/")
    ]


def _matches(route: str, documented: str) -> bool:
    """A Flask route is described by a documented path whose segments line up: a variable
    segment stands for a template or for a concrete name (the per-entity record paths)."""
    r, d = _segments(route), _segments(documented)
    return len(r) == len(d) and all(a is None or a == b for a, b in zip(r, d, strict=True))


def _app_and_document(platform):
    save(platform, ACCOUNT, CONTACT)
    app = create_app(platform, config={"SECRET_KEY": "test-secret"})
    with app.app_context():
        return app, openapi_document(platform)


def test_every_api_route_and_method_is_documented(platform):
    app, doc = _app_and_document(platform)
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            if (method, rule.rule) in NOT_DOCUMENTED:
                continue
            described = [
                p
                for p, item in doc["paths"].items()
                if _matches(rule.rule, p) and method.lower() in item
            ]
            if not described:
                missing.append(
                    f"{method} {rule.rule} (endpoint {rule.endpoint}) is not in the OpenAPI "
                    "document: describe it in web/openapi_paths.py or in an "
                    "openapi_paths(platform) function of its module"
                )
    assert not missing, "\n".join(missing)


def test_every_documented_operation_is_served(platform):
    app, doc = _app_and_document(platform)
    served = {
        (method.lower(), rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IGNORED_METHODS
    }
    stale = [
        f"{method.upper()} {path}"
        for path, item in doc["paths"].items()
        for method in item
        if not any(m == method and _matches(route, path) for m, route in served)
    ]
    assert not stale, f"documented but not served: {stale}"


def test_the_document_is_valid_openapi_with_unique_operation_ids(platform):
    _app, doc = _app_and_document(platform)
    validate(doc)
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_the_allow_list_stays_tiny():
    assert len(NOT_DOCUMENTED) <= 2


def test_a_module_describes_its_own_routes(platform):
    """A builder's API module may carry its description: ``openapi_paths`` is picked up."""
    import sys
    import types

    from flask import Blueprint

    module = types.ModuleType("tests_fake_builder_api")
    module.openapi_paths = lambda _p: {  # type: ignore[attr-defined]
        "/api/v1/fake": {"get": {"operationId": "fake", "responses": {"200": {"description": "x"}}}}
    }
    sys.modules[module.__name__] = module
    try:
        app = create_app(platform, config={"SECRET_KEY": "test-secret"})
        bp = Blueprint("fake", module.__name__)
        bp.add_url_rule("/api/v1/fake", "fake", lambda: "")
        app.register_blueprint(bp)
        assert "/api/v1/fake" in openapi_document(platform, app)["paths"]
    finally:
        del sys.modules[module.__name__]


def test_the_served_document_and_docs_page_list_the_other_areas(client):
    status, doc, _ = client.get("/api/v1/openapi.json")
    assert status == 200
    for path in ("/api/v1/tasks", "/api/v1/files", "/api/v1/views", "/api/v1/webforms"):
        assert path in doc["paths"], path
    status, page, _ = client.get("/api/v1/docs")
    assert status == 200 and b"/api/v1/tasks/{task_id}/complete" in page

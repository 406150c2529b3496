"""The API against its own OpenAPI document, fuzzed by schemathesis over real HTTP: no 5xx.

Bounded (a few examples per operation in CI); schemathesis generates bodies,
query strings and ids from the document, valid and invalid, and every answer
must be a success or a problem document, never a server error.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.floor_defs import ACCOUNT, CONTACT, save

schemathesis = pytest.importorskip("schemathesis")


def test_no_operation_answers_with_a_server_error(platform, server):
    save(platform, ACCOUNT, CONTACT)
    platform.users.add("root", password="root-secret", roles=["admin"])
    token = platform.users.create_token("root")["token"]
    platform.records("account").create({"name": "Acme"})
    # the served document: every area's operations, the modules' own descriptions included
    schema = schemathesis.openapi.from_dict(_served(server))
    failures: list[str] = []
    for result in schema.get_all_operations():
        _fuzz(result.ok(), server, token, failures)
    assert failures == [], "\n".join(failures[:10])


def _served(server: str) -> dict:
    import json
    import urllib.request

    with urllib.request.urlopen(server + "/api/v1/openapi.json") as response:
        return json.loads(response.read())


def _fuzz(operation, server: str, token: str, failures: list[str]) -> None:
    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case):
        response = case.call(base_url=server, headers={"Authorization": f"Bearer {token}"})
        if response.status_code >= 500:
            failures.append(
                f"{operation.label}: {response.status_code} for {case.path_parameters} "
                f"{case.query} {case.body!r}"[:400]
            )

    check()
